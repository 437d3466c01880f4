//===- TorchModels.cpp - Mamba, TLP and TenSet-MLP networks -----*- C++ -*-===//

#include "tcl/CostModel/TorchModels.h"

#include <ATen/Parallel.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <utility>

using namespace tcl;
namespace F = torch::nn::functional;

//===----------------------------------------------------------------------===//
// Flat JSON configs
//===----------------------------------------------------------------------===//

namespace {

/// One config field: its JSON key and where its value lives.
using IntField = std::pair<const char *, int64_t *>;
using ConstIntField = std::pair<const char *, int64_t>;

std::string writeConfig(const char *kind,
                        const std::vector<ConstIntField> &fields) {
  std::string out = std::string("{\"model\":\"") + kind + "\"";
  for (const auto &[key, value] : fields)
    out += std::string(",\"") + key + "\":" + std::to_string(value);
  return out + "}";
}

/// A parsed flat JSON object: string values and integer values.
struct FlatObject {
  std::map<std::string, std::string> strings;
  std::map<std::string, int64_t> ints;
};

/// Parses `{"key": "string" | integer, ...}` (no escapes, no nesting, no
/// floats): all a config ever contains. Returns "" or an error.
std::string parseFlatObject(const std::string &text, FlatObject &out) {
  size_t pos = 0;
  auto skipSpace = [&] {
    while (pos < text.size() &&
           std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  };
  auto fail = [&](const std::string &what) {
    return "config JSON: " + what + " at offset " + std::to_string(pos) +
           " in '" + text + "'";
  };
  auto parseString = [&](std::string &s) -> bool {
    if (pos >= text.size() || text[pos] != '"')
      return false;
    size_t end = text.find('"', pos + 1);
    if (end == std::string::npos || text.find('\\', pos + 1) < end)
      return false;
    s = text.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    return true;
  };

  skipSpace();
  if (pos >= text.size() || text[pos] != '{')
    return fail("expected '{'");
  ++pos;
  skipSpace();
  if (pos < text.size() && text[pos] == '}') {
    ++pos;
  } else {
    while (true) {
      skipSpace();
      std::string key;
      if (!parseString(key))
        return fail("expected a key string");
      if (out.strings.count(key) || out.ints.count(key))
        return fail("duplicate key '" + key + "'");
      skipSpace();
      if (pos >= text.size() || text[pos] != ':')
        return fail("expected ':'");
      ++pos;
      skipSpace();
      if (pos < text.size() && text[pos] == '"') {
        std::string value;
        if (!parseString(value))
          return fail("bad string value");
        out.strings[key] = value;
      } else {
        size_t start = pos;
        if (pos < text.size() && text[pos] == '-')
          ++pos;
        while (pos < text.size() &&
               std::isdigit(static_cast<unsigned char>(text[pos])))
          ++pos;
        if (pos == start || (pos == start + 1 && text[start] == '-') ||
            pos - start > 18)
          return fail("expected a string or an integer for '" + key + "'");
        out.ints[key] = std::stoll(text.substr(start, pos - start));
      }
      skipSpace();
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < text.size() && text[pos] == '}') {
        ++pos;
        break;
      }
      return fail("expected ',' or '}'");
    }
  }
  skipSpace();
  if (pos != text.size())
    return fail("trailing characters");
  return "";
}

/// Fills `fields` from `text`; keys absent from the text keep their values.
std::string readConfig(const std::string &text, const char *kind,
                       const std::vector<IntField> &fields) {
  FlatObject object;
  if (std::string error = parseFlatObject(text, object); !error.empty())
    return error;
  for (const auto &[key, value] : object.strings) {
    if (key != "model")
      return "config JSON: '" + key + "' must be an integer";
    if (value != kind)
      return "config JSON: model '" + value + "' is not '" + kind + "'";
  }
  for (const auto &[key, value] : object.ints) {
    bool known = false;
    for (const auto &[name, slot] : fields) {
      if (key != name)
        continue;
      *slot = value;
      known = true;
    }
    if (!known)
      return std::string("config JSON: unknown key '") + key + "' for model '" +
             kind + "'";
  }
  return "";
}

/// "" when every value is at least its minimum.
std::string
checkAtLeast(const char *kind,
             const std::vector<std::pair<ConstIntField, int64_t>> &fields) {
  for (const auto &[field, minimum] : fields)
    if (field.second < minimum)
      return std::string(kind) + " config: " + field.first + " = " +
             std::to_string(field.second) +
             " must be >= " + std::to_string(minimum);
  return "";
}

/// Concatenates the workload embedding to every token: [B, L, D + W].
torch::Tensor withWorkload(const torch::Tensor &tokens,
                           const torch::Tensor &workload, int64_t tokenDim,
                           int64_t workloadDim) {
  TORCH_CHECK(tokens.dim() == 3 && tokens.size(2) == tokenDim,
              "tokens must be [B, L, ", tokenDim, "], got ", tokens.sizes());
  if (workloadDim == 0)
    return tokens;
  TORCH_CHECK(workload.defined() && workload.dim() == 2 &&
                  workload.size(0) == tokens.size(0) &&
                  workload.size(1) == workloadDim,
              "workload must be [B, ", workloadDim, "]");
  auto expanded = workload.unsqueeze(1).expand(
      {tokens.size(0), tokens.size(1), workloadDim});
  return torch::cat({tokens, expanded}, /*dim=*/2);
}

void checkMask(const torch::Tensor &tokens, const torch::Tensor &mask) {
  TORCH_CHECK(mask.defined() && mask.dim() == 2 &&
                  mask.size(0) == tokens.size(0) &&
                  mask.size(1) == tokens.size(1),
              "mask must be [B, L] like tokens");
}

} // namespace

std::string MambaConfig::toJSON() const {
  return writeConfig("mamba", {{"token_dim", tokenDim},
                               {"workload_dim", workloadDim},
                               {"d_model", dModel},
                               {"d_state", dState},
                               {"d_conv", dConv},
                               {"expand", expand},
                               {"layers", layers},
                               {"head_hidden", headHidden}});
}

std::string MambaConfig::fromJSON(const std::string &text) {
  return readConfig(text, "mamba",
                    {{"token_dim", &tokenDim},
                     {"workload_dim", &workloadDim},
                     {"d_model", &dModel},
                     {"d_state", &dState},
                     {"d_conv", &dConv},
                     {"expand", &expand},
                     {"layers", &layers},
                     {"head_hidden", &headHidden}});
}

std::string MambaConfig::validate() const {
  return checkAtLeast("mamba", {{{"token_dim", tokenDim}, 1},
                                {{"workload_dim", workloadDim}, 0},
                                {{"d_model", dModel}, 1},
                                {{"d_state", dState}, 1},
                                {{"d_conv", dConv}, 1},
                                {{"expand", expand}, 1},
                                {{"layers", layers}, 0},
                                {{"head_hidden", headHidden}, 1}});
}

std::string TLPConfig::toJSON() const {
  return writeConfig("tlp", {{"token_dim", tokenDim},
                             {"workload_dim", workloadDim},
                             {"hidden", hidden},
                             {"heads", heads},
                             {"res_blocks", resBlocks},
                             {"decoder_hidden", decoderHidden}});
}

std::string TLPConfig::fromJSON(const std::string &text) {
  return readConfig(text, "tlp",
                    {{"token_dim", &tokenDim},
                     {"workload_dim", &workloadDim},
                     {"hidden", &hidden},
                     {"heads", &heads},
                     {"res_blocks", &resBlocks},
                     {"decoder_hidden", &decoderHidden}});
}

std::string TLPConfig::validate() const {
  if (std::string error =
          checkAtLeast("tlp", {{{"token_dim", tokenDim}, 1},
                               {{"workload_dim", workloadDim}, 0},
                               {{"hidden", hidden}, 1},
                               {{"heads", heads}, 1},
                               {{"res_blocks", resBlocks}, 0},
                               {{"decoder_hidden", decoderHidden}, 1}});
      !error.empty())
    return error;
  if (hidden % heads != 0)
    return "tlp config: heads = " + std::to_string(heads) +
           " must divide hidden = " + std::to_string(hidden);
  return "";
}

std::string MLPConfig::toJSON() const {
  return writeConfig("mlp", {{"statement_dim", statementDim},
                             {"hidden", hidden},
                             {"res_blocks", resBlocks},
                             {"batch_norm", batchNorm}});
}

std::string MLPConfig::fromJSON(const std::string &text) {
  return readConfig(text, "mlp",
                    {{"statement_dim", &statementDim},
                     {"hidden", &hidden},
                     {"res_blocks", &resBlocks},
                     {"batch_norm", &batchNorm}});
}

std::string MLPConfig::validate() const {
  if (batchNorm != 0 && batchNorm != 1)
    return "mlp config: batch_norm must be 0 or 1";
  return checkAtLeast("mlp", {{{"statement_dim", statementDim}, 1},
                              {{"hidden", hidden}, 1},
                              {{"res_blocks", resBlocks}, 0}});
}

int64_t RankingModel::parameterCount() const {
  int64_t count = 0;
  for (const auto &parameter : parameters())
    count += parameter.numel();
  return count;
}

//===----------------------------------------------------------------------===//
// Mamba
//===----------------------------------------------------------------------===//

namespace {
/// The selective scan without autograd, fused: one pass over the state per
/// step instead of six tensor ops on [B, E, N] slices. float32 CPU tensors
/// of the shapes selectiveScan checks.
torch::Tensor
fusedSelectiveScan(const torch::Tensor &u, const torch::Tensor &delta,
                   const torch::Tensor &A, const torch::Tensor &Bm,
                   const torch::Tensor &Cm, const torch::Tensor &D) {
  const int64_t batch = u.size(0), length = u.size(1), channels = u.size(2),
                state = A.size(1);
  torch::Tensor uc = u.contiguous(), deltac = delta.contiguous(),
                Ac = A.contiguous(), Bc = Bm.contiguous(), Cc = Cm.contiguous(),
                Dc = D.contiguous();
  torch::Tensor y = torch::empty({batch, length, channels}, u.options());
  const float *uData = uc.data_ptr<float>(),
              *deltaData = deltac.data_ptr<float>(),
              *BData = Bc.data_ptr<float>(), *CData = Cc.data_ptr<float>(),
              *DData = Dc.data_ptr<float>();
  float *yData = y.data_ptr<float>();
  // exp(delta * A) comes from LibTorch's vectorized exp, a chunk of
  // candidates at a time so that it stays in cache (~1 MiB).
  const int64_t perSample = std::max<int64_t>(1, length * channels * state);
  const int64_t chunk = std::max<int64_t>(1, (1 << 18) / perSample);
  const int64_t chunks = (batch + chunk - 1) / chunk;
  at::parallel_for(0, chunks, 1, [&](int64_t firstChunk, int64_t lastChunk) {
    std::vector<float> h(channels * state);
    for (int64_t c = firstChunk; c < lastChunk; ++c) {
      const int64_t b0 = c * chunk, b1 = std::min(batch, b0 + chunk);
      torch::Tensor decay =
          torch::exp(deltac.slice(0, b0, b1).unsqueeze(-1) * Ac).contiguous();
      const float *decayData = decay.data_ptr<float>();
      for (int64_t b = b0; b < b1; ++b) {
        std::fill(h.begin(), h.end(), 0.0f);
        for (int64_t t = 0; t < length; ++t) {
          const int64_t bt = b * length + t;
          const float *Bt = BData + bt * state, *Ct = CData + bt * state;
          const float *decayT =
              decayData + ((b - b0) * length + t) * channels * state;
          for (int64_t e = 0; e < channels; ++e) {
            const float x = uData[bt * channels + e];
            const float dx = deltaData[bt * channels + e] * x;
            float *he = h.data() + e * state;
            const float *decayE = decayT + e * state;
            float acc = 0;
            for (int64_t n = 0; n < state; ++n) {
              he[n] = decayE[n] * he[n] + dx * Bt[n];
              acc += he[n] * Ct[n];
            }
            yData[bt * channels + e] = acc + DData[e] * x;
          }
        }
      }
    }
  });
  return y;
}
} // namespace

torch::Tensor
tcl::selectiveScan(const torch::Tensor &u, const torch::Tensor &delta,
                   const torch::Tensor &A, const torch::Tensor &Bm,
                   const torch::Tensor &Cm, const torch::Tensor &D) {
  TORCH_CHECK(u.dim() == 3 && delta.sizes() == u.sizes(),
              "selectiveScan: u and delta must be [B, L, E]");
  const int64_t batch = u.size(0), length = u.size(1), channels = u.size(2);
  TORCH_CHECK(A.dim() == 2 && A.size(0) == channels,
              "selectiveScan: A must be [E, N]");
  const int64_t state = A.size(1);
  TORCH_CHECK(Bm.sizes() == torch::IntArrayRef({batch, length, state}) &&
                  Cm.sizes() == Bm.sizes(),
              "selectiveScan: B and C must be [B, L, N]");
  TORCH_CHECK(D.dim() == 1 && D.size(0) == channels,
              "selectiveScan: D must be [E]");

  if (length == 0)
    return torch::zeros_like(u);
  bool needsGrad =
      torch::GradMode::is_enabled() &&
      (u.requires_grad() || delta.requires_grad() || A.requires_grad() ||
       Bm.requires_grad() || Cm.requires_grad() || D.requires_grad());
  bool fusable = true;
  for (const torch::Tensor *t : {&u, &delta, &A, &Bm, &Cm, &D})
    fusable = fusable && t->scalar_type() == torch::kFloat && t->is_cpu();
  if (!needsGrad && fusable)
    return fusedSelectiveScan(u, delta, A, Bm, Cm, D);

  // One step at a time on [B, E, N] slices: materializing the discretized
  // A and B for all L steps at once costs more in memory traffic (tensors of
  // B * L * E * N floats) than it saves in per-op overhead.
  torch::Tensor h = torch::zeros({batch, channels, state}, u.options());
  std::vector<torch::Tensor> outputs;
  outputs.reserve(length);
  for (int64_t t = 0; t < length; ++t) {
    torch::Tensor deltaT = delta.select(1, t).unsqueeze(-1); // [B, E, 1]
    torch::Tensor decay = torch::exp(deltaT * A);            // [B, E, N]
    torch::Tensor input = (deltaT * u.select(1, t).unsqueeze(-1)) *
                          Bm.select(1, t).unsqueeze(1); // [B, E, N]
    h = torch::addcmul(input, decay, h);
    // Not bmm: LibTorch's CPU bmm runs one tiny GEMM per batch item.
    outputs.push_back((h * Cm.select(1, t).unsqueeze(1)).sum(-1));
  }
  return torch::stack(outputs, /*dim=*/1) + u * D;
}

RMSNorm::RMSNorm(int64_t dim, double eps) : eps(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNorm::forward(const torch::Tensor &x) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * weight;
}

MambaBlock::MambaBlock(const MambaConfig &config)
    : dInner(config.dInner()), dState(config.dState), dtRank(config.dtRank()),
      dConv(config.dConv) {
  using torch::nn::Conv1dOptions;
  using torch::nn::LinearOptions;
  norm = register_module("norm", std::make_shared<RMSNorm>(config.dModel));
  inProj = register_module(
      "in_proj",
      torch::nn::Linear(LinearOptions(config.dModel, 2 * dInner).bias(false)));
  conv = register_module("conv1d",
                         torch::nn::Conv1d(Conv1dOptions(dInner, dInner, dConv)
                                               .groups(dInner)
                                               .padding(dConv - 1)));
  xProj = register_module(
      "x_proj", torch::nn::Linear(
                    LinearOptions(dInner, dtRank + 2 * dState).bias(false)));
  dtProj = register_module("dt_proj", torch::nn::Linear(dtRank, dInner));
  outProj = register_module(
      "out_proj",
      torch::nn::Linear(LinearOptions(dInner, config.dModel).bias(false)));

  // Mamba's initialization (Sec. 3.6 and its reference code): A_log =
  // log(1..N) for every channel (S4D-Real), D = 1, and a dt_proj bias whose
  // softplus is log-uniform in [1e-3, 1e-1].
  ALog = register_parameter(
      "A_log", torch::log(torch::arange(1, dState + 1, torch::kFloat))
                   .unsqueeze(0)
                   .repeat({dInner, 1}));
  D = register_parameter("D", torch::ones({dInner}));
  torch::NoGradGuard noGrad;
  double bound = 1.0 / std::sqrt(static_cast<double>(dtRank));
  dtProj->weight.uniform_(-bound, bound);
  const double dtMin = 1e-3, dtMax = 1e-1;
  torch::Tensor dt =
      torch::exp(torch::rand({dInner}) * (std::log(dtMax) - std::log(dtMin)) +
                 std::log(dtMin));
  // softplus^-1(dt) = dt + log(1 - exp(-dt)).
  dtProj->bias.copy_(dt + torch::log(-torch::expm1(-dt)));
}

torch::Tensor MambaBlock::forward(const torch::Tensor &x,
                                  const torch::Tensor &mask) {
  const int64_t length = x.size(1);
  torch::Tensor m = mask.unsqueeze(-1);
  std::vector<torch::Tensor> xz = inProj(norm->forward(x)).chunk(2, -1);
  torch::Tensor z = xz[1];
  // Zero padding before the convolution: its taps then see zeros, exactly
  // as at the start of a shorter sequence.
  torch::Tensor u = conv(xz[0].mul(m).transpose(1, 2))
                        .narrow(2, 0, length)
                        .transpose(1, 2)
                        .contiguous(); // else x_proj runs as a slow bmm
  u = F::silu(u) * m;
  torch::Tensor dbc = xProj(u);
  torch::Tensor dt = dbc.narrow(-1, 0, dtRank);
  torch::Tensor Bm = dbc.narrow(-1, dtRank, dState);
  torch::Tensor Cm = dbc.narrow(-1, dtRank + dState, dState);
  // delta = 0 makes a padded step the identity on the scan state.
  torch::Tensor delta = F::softplus(dtProj(dt)) * m;
  torch::Tensor y = selectiveScan(u, delta, -torch::exp(ALog), Bm, Cm, D);
  return x + outProj(y * F::silu(z)) * m;
}

MambaCostModel::MambaCostModel(const MambaConfig &config) : config(config) {
  TORCH_CHECK(config.validate().empty(), config.validate());
  inputProj = register_module(
      "input_proj",
      torch::nn::Linear(config.tokenDim + config.workloadDim, config.dModel));
  for (int64_t i = 0; i < config.layers; ++i)
    blocks.push_back(register_module("block" + std::to_string(i),
                                     std::make_shared<MambaBlock>(config)));
  finalNorm =
      register_module("norm_f", std::make_shared<RMSNorm>(config.dModel));
  head1 = register_module("head1",
                          torch::nn::Linear(config.dModel, config.headHidden));
  head2 = register_module("head2", torch::nn::Linear(config.headHidden, 1));
}

torch::Tensor MambaCostModel::forward(const torch::Tensor &tokens,
                                      const torch::Tensor &mask,
                                      const torch::Tensor &workload) {
  torch::Tensor x =
      withWorkload(tokens, workload, config.tokenDim, config.workloadDim);
  checkMask(tokens, mask);
  torch::Tensor m = mask.unsqueeze(-1);
  torch::Tensor h = inputProj(x) * m;
  for (auto &block : blocks)
    h = block->forward(h, mask);
  torch::Tensor perPosition =
      head2(F::silu(head1(finalNorm->forward(h)))).squeeze(-1);
  return (perPosition * mask).sum(1);
}

torch::Tensor MambaCostModel::score(const ModelInput &input) {
  return forward(input.tokens, input.mask, input.workload);
}

//===----------------------------------------------------------------------===//
// TLP
//===----------------------------------------------------------------------===//

TLPCostModel::TLPCostModel(const TLPConfig &config) : config(config) {
  TORCH_CHECK(config.validate().empty(), config.validate());
  encoder1 = register_module(
      "encoder1",
      torch::nn::Linear(config.tokenDim + config.workloadDim, config.hidden));
  encoder2 = register_module("encoder2",
                             torch::nn::Linear(config.hidden, config.hidden));
  attention = register_module(
      "attention", torch::nn::MultiheadAttention(config.hidden, config.heads));
  for (int64_t i = 0; i < config.resBlocks; ++i)
    residual.push_back(
        register_module("residual" + std::to_string(i),
                        torch::nn::Linear(config.hidden, config.hidden)));
  decoder1 = register_module(
      "decoder1", torch::nn::Linear(config.hidden, config.decoderHidden));
  decoder2 =
      register_module("decoder2", torch::nn::Linear(config.decoderHidden, 1));
}

torch::Tensor TLPCostModel::forward(const torch::Tensor &tokens,
                                    const torch::Tensor &mask,
                                    const torch::Tensor &workload) {
  torch::Tensor x =
      withWorkload(tokens, workload, config.tokenDim, config.workloadDim);
  checkMask(tokens, mask);
  torch::Tensor h = torch::relu(encoder2(torch::relu(encoder1(x))));
  torch::Tensor ignore = mask <= 0.5;
  // A sequence without tokens would make every attention weight NaN; let it
  // attend to its first (padding) position, whose output the mask drops.
  if (ignore.size(1) > 0)
    ignore.select(1, 0).logical_and_(ignore.all(1).logical_not());
  // LibTorch's attention is sequence-first: [L, B, hidden].
  torch::Tensor seq = h.transpose(0, 1);
  torch::Tensor attended = std::get<0>(attention(seq, seq, seq, ignore,
                                                 /*need_weights=*/false));
  h = attended.transpose(0, 1) + h;
  for (auto &layer : residual)
    h = torch::relu(layer(h)) + h;
  torch::Tensor perPosition = decoder2(torch::relu(decoder1(h))).squeeze(-1);
  return (perPosition * mask).sum(1);
}

torch::Tensor TLPCostModel::score(const ModelInput &input) {
  return forward(input.tokens, input.mask, input.workload);
}

//===----------------------------------------------------------------------===//
// TenSet-MLP
//===----------------------------------------------------------------------===//

MLPCostModel::MLPCostModel(const MLPConfig &config) : config(config) {
  TORCH_CHECK(config.validate().empty(), config.validate());
  encoder1 = register_module(
      "encoder1", torch::nn::Linear(config.statementDim, config.hidden));
  encoder2 = register_module("encoder2",
                             torch::nn::Linear(config.hidden, config.hidden));
  if (config.batchNorm)
    norm = register_module("norm", torch::nn::BatchNorm1d(config.hidden));
  for (int64_t i = 0; i < config.resBlocks; ++i)
    residual.push_back(
        register_module("residual" + std::to_string(i),
                        torch::nn::Linear(config.hidden, config.hidden)));
  decoder = register_module("decoder", torch::nn::Linear(config.hidden, 1));
}

torch::Tensor MLPCostModel::forward(const torch::Tensor &statements,
                                    const torch::Tensor &segments,
                                    int64_t batchSize) {
  TORCH_CHECK(statements.dim() == 2 &&
                  statements.size(1) == config.statementDim,
              "statements must be [S, ", config.statementDim, "], got ",
              statements.sizes());
  TORCH_CHECK(segments.dim() == 1 && segments.size(0) == statements.size(0) &&
                  segments.scalar_type() == torch::kLong,
              "segments must be int64 [S]");
  TORCH_CHECK(batchSize >= 0, "negative batch size");
  torch::Tensor h = torch::relu(encoder2(torch::relu(encoder1(statements))));
  torch::Tensor x = torch::zeros({batchSize, config.hidden}, h.options())
                        .index_add(0, segments, h);
  if (norm)
    x = norm(x);
  for (auto &layer : residual)
    x = torch::relu(layer(x)) + x;
  return decoder(x).squeeze(-1);
}

torch::Tensor MLPCostModel::score(const ModelInput &input) {
  return forward(input.statements, input.segments, input.batchSize);
}

//===----------------------------------------------------------------------===//
// Creation, save and load
//===----------------------------------------------------------------------===//

namespace {
constexpr const char *kConfigKey = "tcl_config";

/// Builds a model from a config without touching the seed.
ModelOrError buildModel(const std::string &configJSON) {
  FlatObject object;
  if (std::string error = parseFlatObject(configJSON, object); !error.empty())
    return {nullptr, error};
  auto kind = object.strings.find("model");
  if (kind == object.strings.end())
    return {nullptr, "config JSON has no \"model\" key: '" + configJSON + "'"};

  auto build = [&](auto config, auto make) -> ModelOrError {
    if (std::string error = config.fromJSON(configJSON); !error.empty())
      return {nullptr, error};
    if (std::string error = config.validate(); !error.empty())
      return {nullptr, error};
    try {
      return {make(config), ""};
    } catch (const std::exception &e) {
      return {nullptr, std::string("cannot build model: ") + e.what()};
    }
  };
  if (kind->second == "mamba")
    return build(MambaConfig(), [](const MambaConfig &c) {
      return std::make_shared<MambaCostModel>(c);
    });
  if (kind->second == "tlp")
    return build(TLPConfig(), [](const TLPConfig &c) {
      return std::make_shared<TLPCostModel>(c);
    });
  if (kind->second == "mlp")
    return build(MLPConfig(), [](const MLPConfig &c) {
      return std::make_shared<MLPCostModel>(c);
    });
  return {nullptr, "unknown model kind '" + kind->second +
                       "' (expected mamba, tlp or mlp)"};
}

/// Reads the config stored by saveModel.
std::string readStoredConfig(torch::serialize::InputArchive &archive,
                             const std::string &path, std::string &config) {
  c10::IValue value;
  if (!archive.try_read(kConfigKey, value) || !value.isString())
    return "'" + path + "' has no TCL model config (not saved by saveModel?)";
  config = value.toStringRef();
  return "";
}

/// Both configs parsed and printed again, so that key order and spacing do
/// not matter.
std::string canonicalConfig(const std::string &configJSON) {
  ModelOrError model = buildModel(configJSON);
  return model ? model.model->describeConfig() : configJSON;
}
} // namespace

ModelOrError tcl::createModel(const std::string &configJSON, uint64_t seed) {
  torch::manual_seed(seed);
  return buildModel(configJSON);
}

std::string tcl::saveModel(RankingModel &model, const std::string &path) {
  try {
    torch::serialize::OutputArchive archive;
    model.save(archive);
    archive.write(kConfigKey, c10::IValue(model.describeConfig()));
    archive.save_to(path);
    return "";
  } catch (const std::exception &e) {
    return "cannot save model to '" + path + "': " + e.what();
  }
}

std::string tcl::loadWeights(RankingModel &model, const std::string &path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    std::string stored;
    if (std::string error = readStoredConfig(archive, path, stored);
        !error.empty())
      return error;
    std::string expected = model.describeConfig();
    if (canonicalConfig(stored) != expected)
      return "model file '" + path + "' holds config " + stored +
             ", which does not match the requested " + expected;
    // Module::load would silently resize a parameter to the stored shape;
    // the config check above rules that out, this is a second guard.
    std::vector<std::vector<int64_t>> shapes;
    for (const auto &parameter : model.parameters())
      shapes.push_back(parameter.sizes().vec());
    model.load(archive);
    size_t i = 0;
    for (const auto &parameter : model.parameters())
      if (parameter.sizes().vec() != shapes[i++])
        return "model file '" + path + "' has parameters of other shapes";
    return "";
  } catch (const std::exception &e) {
    return "cannot load model from '" + path + "': " + e.what();
  }
}

ModelOrError tcl::loadModel(const std::string &path,
                            const std::string &expectedConfig) {
  std::string stored;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    if (std::string error = readStoredConfig(archive, path, stored);
        !error.empty())
      return {nullptr, error};
  } catch (const std::exception &e) {
    return {nullptr, "cannot load model from '" + path + "': " + e.what()};
  }
  ModelOrError model = buildModel(stored);
  if (!model)
    return {nullptr, "model file '" + path + "': " + model.error};
  if (!expectedConfig.empty() &&
      canonicalConfig(expectedConfig) != model.model->describeConfig())
    return {nullptr, "model file '" + path + "' holds config " + stored +
                         ", which does not match the expected " +
                         expectedConfig};
  if (std::string error = loadWeights(*model.model, path); !error.empty())
    return {nullptr, error};
  model.model->eval();
  return model;
}
