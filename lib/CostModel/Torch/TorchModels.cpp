//===- TorchModels.cpp - Mamba, TLP and TenSet-MLP networks -----*- C++ -*-===//

#include "tcl/CostModel/TorchModels.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <strings.h>
#include <torch/autograd.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
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
void checkWorkload(const torch::Tensor &tokens, const torch::Tensor &workload,
                   int64_t workloadDim) {
  TORCH_CHECK(workload.defined() && workload.dim() == 2 &&
                  workload.size(0) == tokens.size(0) &&
                  workload.size(1) == workloadDim,
              "workload must be [B, ", workloadDim, "]");
}

torch::Tensor withWorkload(const torch::Tensor &tokens,
                           const torch::Tensor &workload, int64_t tokenDim,
                           int64_t workloadDim) {
  TORCH_CHECK(tokens.dim() == 3 && tokens.size(2) == tokenDim,
              "tokens must be [B, L, ", tokenDim, "], got ", tokens.sizes());
  if (workloadDim == 0)
    return tokens;
  checkWorkload(tokens, workload, workloadDim);
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
  std::vector<ConstIntField> fields{{"token_dim", tokenDim},
                                    {"workload_dim", workloadDim},
                                    {"d_model", dModel},
                                    {"d_state", dState},
                                    {"d_conv", dConv},
                                    {"expand", expand},
                                    {"layers", layers},
                                    {"head_hidden", headHidden}};
  if (platformSlots > 0)
    fields.push_back({"platform_slots", platformSlots});
  if (platformFilm != 0)
    fields.push_back({"platform_film", platformFilm});
  if (inputNorm != 0)
    fields.push_back({"input_norm", inputNorm});
  return writeConfig("mamba", fields);
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
                     {"platform_slots", &platformSlots},
                     {"platform_film", &platformFilm},
                     {"input_norm", &inputNorm},
                     {"head_hidden", &headHidden}});
}

std::string MambaConfig::validate() const {
  std::string error = checkAtLeast("mamba", {{{"token_dim", tokenDim}, 1},
                                {{"workload_dim", workloadDim}, 0},
                                {{"d_model", dModel}, 1},
                                {{"d_state", dState}, 1},
                                {{"d_conv", dConv}, 1},
                                {{"expand", expand}, 1},
                                {{"layers", layers}, 0},
                                {{"head_hidden", headHidden}, 1},
                                {{"platform_slots", platformSlots}, 0}});
  if (error.empty() && platformSlots > workloadDim)
    return "mamba: platform_slots exceeds workload_dim";
  if (error.empty() && inputNorm != 0 && inputNorm != 1)
    return "mamba config: input_norm must be 0 or 1";
  if (error.empty() && platformFilm != 0 && platformFilm != 1)
    return "mamba config: platform_film must be 0 or 1";
  if (error.empty() && platformFilm != 0 && platformSlots == 0)
    return "mamba config: platform_film needs platform_slots";
  return error;
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

// Kernels of the Mamba block on float32 CPU tensors. Each is written once as
// an always-inline body whose inner loops run over the contiguous channel
// dimension, and instantiated for AVX-512, AVX2+FMA and baseline x86-64; the
// widest the CPU supports is picked at run time, so the library itself
// builds without -march flags.

#define TCL_ALWAYS_INLINE inline __attribute__((always_inline))

/// exp(x) for float, with no libm call so that the loops around it
/// vectorize: Cody-Waite reduction x = k ln2 + r, |r| <= ln2 / 2, and
/// Cephes' degree-7 polynomial for exp(r) (about 1 ulp). x is clamped to
/// [-87, 88]: exp(-87) ~ 1.6e-38 stands for underflow, exp(0) is exactly 1
/// (a NaN argument gives exp(-87)). The clamps are written so that they map
/// to max/min instructions.
TCL_ALWAYS_INLINE float fastExp(float x) {
  x = x > -87.0f ? x : -87.0f;
  x = x < 88.0f ? x : 88.0f;
  // Round x / ln2 to an integer by adding 1.5 * 2^23: the sum's mantissa
  // then holds it.
  const float shifted = x * 1.44269504088896341f + 12582912.0f;
  const float k = shifted - 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof(bits));
  const int32_t n = bits - 0x4B400000;
  const float r = x - k * 0.693359375f - k * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t scaleBits = (n + 127) << 23;
  float scale;
  std::memcpy(&scale, &scaleBits, sizeof(scale));
  return p * scale;
}

/// log(1 + y) for y in [0, 1], vectorizable: Cephes' logf polynomial on
/// u = 1 + y, plus the correction (y - (u - 1)) / u for the rounding of u
/// (Goldberg 1991, Theorem 4), so small y keep their relative accuracy.
TCL_ALWAYS_INLINE float fastLog1p(float y) {
  const float u = 1.0f + y;
  // u in [1, 2]: log u = log m + k log 2 with m = u or u / 2 in
  // [sqrt(1/2), sqrt(2)).
  const bool halve = u > 1.41421356f;
  const float m = halve ? u * 0.5f : u, k = halve ? 1.0f : 0.0f;
  const float x = m - 1.0f, z = x * x;
  float p = 7.0376836292e-2f;
  p = p * x - 1.1514610310e-1f;
  p = p * x + 1.1676998740e-1f;
  p = p * x - 1.2420140846e-1f;
  p = p * x + 1.4249322787e-1f;
  p = p * x - 1.6668057665e-1f;
  p = p * x + 2.0000714765e-1f;
  p = p * x - 2.4999993993e-1f;
  p = p * x + 3.3333331174e-1f;
  float r = p * x * z;
  r += k * -2.12194440e-4f;
  r += -0.5f * z;
  r = x + r + k * 0.693359375f;
  const float du = u - 1.0f;
  return du == 0.0f ? y : r + (y - du) / u;
}

/// softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)).
TCL_ALWAYS_INLINE float fastSoftplus(float x) {
  const float ax = x > 0.0f ? x : -x;
  return (x > 0.0f ? x : 0.0f) + fastLog1p(fastExp(-ax));
}

/// Sum of x[0..n) in 16 lanes (vectorizes without -ffast-math).
TCL_ALWAYS_INLINE float laneSum(const float *x, int64_t n) {
  float lanes[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j)
      lanes[j] += x[i + j];
  float sum = 0;
  for (; i < n; ++i)
    sum += x[i];
  for (int j = 0; j < 16; ++j)
    sum += lanes[j];
  return sum;
}

/// One state row n of a forward step: h[e] = exp(delta[e] a[e]) h[e] +
/// dx[e] b, y[e] += h[e] c. Separate functions with restrict parameters
/// (the state in place, or from hIn to hOut) so that GCC vectorizes them
/// without run-time aliasing checks, which in-place updates would fail.
TCL_ALWAYS_INLINE void scanForwardRowInPlace(int64_t E, float b, float c,
                                             const float *__restrict a,
                                             const float *__restrict delta,
                                             const float *__restrict dx,
                                             float *__restrict h,
                                             float *__restrict y) {
  for (int64_t e = 0; e < E; ++e) {
    const float v = fastExp(delta[e] * a[e]) * h[e] + dx[e] * b;
    h[e] = v;
    y[e] += v * c;
  }
}

TCL_ALWAYS_INLINE void
scanForwardRow(int64_t E, float b, float c, const float *__restrict a,
               const float *__restrict delta, const float *__restrict dx,
               const float *__restrict hIn, float *__restrict hOut,
               float *__restrict y) {
  for (int64_t e = 0; e < E; ++e) {
    const float v = fastExp(delta[e] * a[e]) * hIn[e] + dx[e] * b;
    hOut[e] = v;
    y[e] += v * c;
  }
}

/// The same exp on GCC vectors of W floats (V) and int32 (VI).
template <typename V, typename VI> TCL_ALWAYS_INLINE V vecExp(V x) {
  const V lo = V{} - 87.0f, hi = V{} + 88.0f, magic = V{} + 12582912.0f;
  x = x > lo ? x : lo;
  x = x < hi ? x : hi;
  const V shifted = x * 1.44269504088896341f + magic;
  const V k = shifted - magic;
  const VI n = (VI)shifted - 0x4B400000;
  const V r = x - k * 0.693359375f - k * -2.12194440e-4f;
  V p = V{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * (V)((n + 127) << 23);
}

template <int W> struct VecTypes;
template <> struct VecTypes<16> {
  typedef float F __attribute__((vector_size(64)));
  typedef int32_t I __attribute__((vector_size(64)));
};
template <> struct VecTypes<8> {
  typedef float F __attribute__((vector_size(32)));
  typedef int32_t I __attribute__((vector_size(32)));
};
template <> struct VecTypes<4> {
  typedef float F __attribute__((vector_size(16)));
  typedef int32_t I __attribute__((vector_size(16)));
};

template <typename V> TCL_ALWAYS_INLINE V vecLoad(const float *p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V> TCL_ALWAYS_INLINE void vecStore(float *p, V v) {
  std::memcpy(p, &v, sizeof(V));
}

/// The forward scan of one sample (scanForwardBody without a history) for
/// NS states and channels in blocks of W: a block's NS state vectors stay in
/// registers for all L steps, so the state never goes through memory.
/// Requires E % W == 0.
template <int W, int NS>
TCL_ALWAYS_INLINE void
scanForwardBlocked(const float *u, const float *delta, const float *AT,
                   const float *Bm, const float *Cm, const float *D,
                   const float *gate, int64_t gateStride, float *y,
                   int64_t length, int64_t E, int64_t bcStride) {
  using V = typename VecTypes<W>::F;
  using VI = typename VecTypes<W>::I;
  for (int64_t e0 = 0; e0 < E; e0 += W) {
    V h[NS];
    for (int n = 0; n < NS; ++n)
      h[n] = V{};
    const V skip = vecLoad<V>(D + e0);
    for (int64_t t = 0; t < length; ++t) {
      const V ut = vecLoad<V>(u + t * E + e0),
              dt = vecLoad<V>(delta + t * E + e0);
      const float *Bt = Bm + t * bcStride, *Ct = Cm + t * bcStride;
      const V dx = dt * ut;
      V yt = skip * ut;
#pragma GCC unroll 16
      for (int n = 0; n < NS; ++n) {
        const V a = vecLoad<V>(AT + n * E + e0);
        h[n] = vecExp<V, VI>(dt * a) * h[n] + dx * Bt[n];
        yt += h[n] * Ct[n];
      }
      if (gate) {
        const V z = vecLoad<V>(gate + t * gateStride + e0);
        yt *= z / (1.0f + vecExp<V, VI>(-z));
      }
      vecStore(y + t * E + e0, yt);
    }
  }
}

/// scanForwardBlocked for the state sizes it is instantiated for; false
/// (nothing done) for others or when E % W != 0.
template <int W>
TCL_ALWAYS_INLINE bool
scanForwardBlockedAny(const float *u, const float *delta, const float *AT,
                      const float *Bm, const float *Cm, const float *D,
                      const float *gate, int64_t gateStride, float *y,
                      int64_t length, int64_t E, int64_t N, int64_t bcStride) {
  if (E % W != 0)
    return false;
  switch (N) {
  case 16:
    scanForwardBlocked<W, 16>(u, delta, AT, Bm, Cm, D, gate, gateStride, y,
                              length, E, bcStride);
    return true;
  case 8:
    scanForwardBlocked<W, 8>(u, delta, AT, Bm, Cm, D, gate, gateStride, y,
                             length, E, bcStride);
    return true;
  case 4:
    scanForwardBlocked<W, 4>(u, delta, AT, Bm, Cm, D, gate, gateStride, y,
                             length, E, bcStride);
    return true;
  default:
    return false;
  }
}

/// Shapes and strides of one selective scan; pointers are per sample.
struct ScanShape {
  int64_t length, channels, state;
  /// Row stride (per position) of B and C, which may be column slices of
  /// x_proj's output.
  int64_t bcStride;
};

/// Forward scan of one sample: y[t, e] = sum_n C[t, n] h_t[n, e] + D[e]
/// u[t, e], times SiLU(gate[t, e]) when gate is given (row stride
/// gateStride). The state h [N, E] lives in `h`; with `history`, h_t is also
/// written to history[(t + 1) * N * E] (history[0..N*E) is h_0 = 0). AT is
/// A transposed, [N, E]. `dx` is scratch of E floats.
template <int W>
TCL_ALWAYS_INLINE void scanForwardBody(const float *u, const float *delta,
                                       const float *AT, const float *Bm,
                                       const float *Cm, const float *D,
                                       const float *gate, int64_t gateStride,
                                       float *y, const ScanShape &s, float *h,
                                       float *history, float *dx) {
  const int64_t E = s.channels, N = s.state;
  if (!history && scanForwardBlockedAny<W>(u, delta, AT, Bm, Cm, D, gate,
                                           gateStride, y, s.length, E, N,
                                           s.bcStride))
    return;
  if (history) {
    std::fill(history, history + N * E, 0.0f);
    h = history;
  } else {
    std::fill(h, h + N * E, 0.0f);
  }
  for (int64_t t = 0; t < s.length; ++t) {
    const float *ut = u + t * E, *dt = delta + t * E;
    const float *Bt = Bm + t * s.bcStride, *Ct = Cm + t * s.bcStride;
    float *yt = y + t * E;
    const float *hPrev = h;
    float *hNext = history ? history + (t + 1) * N * E : h;
    for (int64_t e = 0; e < E; ++e) {
      dx[e] = dt[e] * ut[e];
      yt[e] = D[e] * ut[e];
    }
    for (int64_t n = 0; n < N; ++n) {
      if (history)
        scanForwardRow(E, Bt[n], Ct[n], AT + n * E, dt, dx, hPrev + n * E,
                       hNext + n * E, yt);
      else
        scanForwardRowInPlace(E, Bt[n], Ct[n], AT + n * E, dt, dx, h + n * E,
                              yt);
    }
    if (gate) {
      const float *zt = gate + t * gateStride;
      for (int64_t e = 0; e < E; ++e)
        yt[e] *= zt[e] / (1.0f + fastExp(-zt[e]));
    }
    h = hNext;
  }
}

/// One state row n of a backward step (see scanBackwardBody). Separate, with
/// restrict parameters, because GCC does not vectorize it inline.
TCL_ALWAYS_INLINE void
scanBackwardRow(int64_t E, float bn, float cn, const float *__restrict an,
                const float *__restrict hn, const float *__restrict hpn,
                const float *__restrict dy, const float *__restrict delta,
                const float *__restrict u, const float *__restrict decay,
                float *__restrict gn, float *__restrict dan,
                float *__restrict ddelta, float *__restrict du,
                float *__restrict tmpC, float *__restrict tmpB) {
  for (int64_t e = 0; e < E; ++e) {
    // h_t = exp(delta A) h_{t-1} + delta B u; y_t += C h_t; gn holds
    // dLoss/dh_t from the steps after t.
    const float gt = gn[e] + dy[e] * cn;
    const float gDecay = gt * hpn[e] * decay[e];
    ddelta[e] += gDecay * an[e] + gt * bn * u[e];
    dan[e] += gDecay * delta[e];
    du[e] += gt * delta[e] * bn;
    gn[e] = gt * decay[e];
    tmpC[e] = dy[e] * hn[e];
    tmpB[e] = gt * delta[e] * u[e];
  }
}

/// Backward scan of one sample from the states `history` written by
/// scanForwardBody: given dy [L, E], writes du, ddelta [L, E], dB, dC
/// [L, N] (contiguous) and adds to dAT [N, E] and dD [E]. `g` is scratch of
/// N * E floats (dLoss/dh carried backwards), `tmp` of 3 * E floats.
TCL_ALWAYS_INLINE void
scanBackwardBody(const float *u, const float *delta, const float *AT,
                 const float *Bm, const float *Cm, const float *D,
                 const float *dy, const float *history, const ScanShape &s,
                 float *du, float *ddelta, float *dB, float *dC, float *dAT,
                 float *dD, float *g, float *tmp) {
  const int64_t E = s.channels, N = s.state;
  std::fill(g, g + N * E, 0.0f);
  float *tmpC = tmp, *tmpB = tmp + E, *decayN = tmp + 2 * E;
  for (int64_t t = s.length - 1; t >= 0; --t) {
    const float *ut = u + t * E, *dt = delta + t * E, *dyt = dy + t * E;
    const float *Bt = Bm + t * s.bcStride, *Ct = Cm + t * s.bcStride;
    const float *ht = history + (t + 1) * N * E, *hp = history + t * N * E;
    float *dut = du + t * E, *ddt = ddelta + t * E;
    for (int64_t e = 0; e < E; ++e) {
      dut[e] = D[e] * dyt[e];
      ddt[e] = 0.0f;
      dD[e] += dyt[e] * ut[e];
    }
    for (int64_t n = 0; n < N; ++n) {
      const float bn = Bt[n], cn = Ct[n];
      for (int64_t e = 0; e < E; ++e)
        decayN[e] = fastExp(dt[e] * AT[n * E + e]);
      scanBackwardRow(E, bn, cn, AT + n * E, ht + n * E, hp + n * E, dyt, dt,
                      ut, decayN, g + n * E, dAT + n * E, ddt, dut, tmpC,
                      tmpB);
      dC[t * N + n] = laneSum(tmpC, E);
      dB[t * N + n] = laneSum(tmpB, E);
    }
  }
}

/// Causal depthwise convolution of Mamba's block, fused with its masks and
/// SiLU, for one sample: out[t, e] = SiLU(bias[e] + sum_k w[e, k]
/// x[t - K + 1 + k, e] m[t - K + 1 + k]) m[t], x with row stride xStride,
/// w [K, E] (transposed), out [L, E].
TCL_ALWAYS_INLINE void convSiluBody(const float *x, int64_t xStride,
                                    const float *m, const float *wT,
                                    const float *bias, float *out,
                                    int64_t length, int64_t E, int64_t K) {
  for (int64_t t = 0; t < length; ++t) {
    float *ot = out + t * E;
    if (m[t] == 0.0f) {
      std::fill(ot, ot + E, 0.0f);
      continue;
    }
    for (int64_t e = 0; e < E; ++e)
      ot[e] = bias[e];
    for (int64_t k = 0; k < K; ++k) {
      const int64_t source = t - K + 1 + k;
      if (source < 0 || m[source] == 0.0f)
        continue;
      const float scale = m[source];
      const float *xs = x + source * xStride, *wk = wT + k * E;
      for (int64_t e = 0; e < E; ++e)
        ot[e] += wk[e] * (xs[e] * scale);
    }
    const float mt = m[t];
    for (int64_t e = 0; e < E; ++e)
      ot[e] = ot[e] / (1.0f + fastExp(-ot[e])) * mt;
  }
}

/// delta = softplus(x) * m in place on one sample's x [L, E], m [L].
TCL_ALWAYS_INLINE void softplusMaskBody(float *x, const float *m,
                                        int64_t length, int64_t E) {
  for (int64_t t = 0; t < length; ++t) {
    float *__restrict xt = x + t * E;
    const float mt = m[t];
    for (int64_t e = 0; e < E; ++e)
      xt[e] = fastSoftplus(xt[e]) * mt;
  }
}

/// RMSNorm of `rows` rows of D floats: out = x / sqrt(mean(x^2) + eps) * w.
TCL_ALWAYS_INLINE void rmsNormBody(const float *x, const float *w,
                                   float *out, int64_t rows, int64_t D,
                                   float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *__restrict xr = x + r * D;
    float *__restrict o = out + r * D;
    float lanes[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= D; i += 16)
      for (int j = 0; j < 16; ++j)
        lanes[j] += xr[i + j] * xr[i + j];
    float sum = 0;
    for (; i < D; ++i)
      sum += xr[i] * xr[i];
    for (int j = 0; j < 16; ++j)
      sum += lanes[j];
    const float scale = 1.0f / std::sqrt(sum / static_cast<float>(D) + eps);
    for (int64_t d = 0; d < D; ++d)
      o[d] = xr[d] * scale * w[d];
  }
}

using ScanForwardFn = void (*)(const float *, const float *, const float *,
                               const float *, const float *, const float *,
                               const float *, int64_t, float *,
                               const ScanShape &, float *, float *, float *);
using ScanBackwardFn = void (*)(const float *, const float *, const float *,
                                const float *, const float *, const float *,
                                const float *, const float *,
                                const ScanShape &, float *, float *, float *,
                                float *, float *, float *, float *, float *);
using ConvSiluFn = void (*)(const float *, int64_t, const float *,
                            const float *, const float *, float *, int64_t,
                            int64_t, int64_t);

using SoftplusMaskFn = void (*)(float *, const float *, int64_t, int64_t);
using RMSNormFn = void (*)(const float *, const float *, float *, int64_t,
                           int64_t, float);

struct Kernels {
  ScanForwardFn scanForward;
  ScanBackwardFn scanBackward;
  ConvSiluFn convSilu;
  SoftplusMaskFn softplusMask;
  RMSNormFn rmsNorm;
};

#define TCL_KERNELS(SUFFIX, TARGET, WIDTH)                                            \
  TARGET void scanForward##SUFFIX(                                             \
      const float *u, const float *delta, const float *AT, const float *Bm,    \
      const float *Cm, const float *D, const float *gate, int64_t gateStride,  \
      float *y, const ScanShape &s, float *h, float *history, float *dx) {     \
    scanForwardBody<WIDTH>(u, delta, AT, Bm, Cm, D, gate, gateStride, y, s, h, \
                           history, dx);                                       \
  }                                                                            \
  TARGET void scanBackward##SUFFIX(                                            \
      const float *u, const float *delta, const float *AT, const float *Bm,    \
      const float *Cm, const float *D, const float *dy, const float *history,  \
      const ScanShape &s, float *du, float *ddelta, float *dB, float *dC,      \
      float *dAT, float *dD, float *g, float *tmp) {                           \
    scanBackwardBody(u, delta, AT, Bm, Cm, D, dy, history, s, du, ddelta, dB,  \
                     dC, dAT, dD, g, tmp);                                     \
  }                                                                            \
  TARGET void convSilu##SUFFIX(const float *x, int64_t xStride,                \
                               const float *m, const float *wT,                \
                               const float *bias, float *out, int64_t length,  \
                               int64_t E, int64_t K) {                         \
    convSiluBody(x, xStride, m, wT, bias, out, length, E, K);                  \
  }                                                                            \
  TARGET void softplusMask##SUFFIX(float *x, const float *m, int64_t length,   \
                                   int64_t E) {                                \
    softplusMaskBody(x, m, length, E);                                         \
  }                                                                            \
  TARGET void rmsNorm##SUFFIX(const float *x, const float *w, float *out,      \
                              int64_t rows, int64_t D, float eps) {            \
    rmsNormBody(x, w, out, rows, D, eps);                                      \
  }

TCL_KERNELS(Avx512, __attribute__((target("avx512f,avx512vl,avx2,fma"))), 16)
TCL_KERNELS(Avx2, __attribute__((target("avx2,fma"))), 8)
TCL_KERNELS(Generic, , 4)
#undef TCL_KERNELS

const Kernels &kernels() {
  static const Kernels chosen = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
      return Kernels{scanForwardAvx512, scanBackwardAvx512, convSiluAvx512,
                     softplusMaskAvx512, rmsNormAvx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return Kernels{scanForwardAvx2, scanBackwardAvx2, convSiluAvx2,
                     softplusMaskAvx2, rmsNormAvx2};
    return Kernels{scanForwardGeneric, scanBackwardGeneric, convSiluGeneric,
                     softplusMaskGeneric, rmsNormGeneric};
  }();
  return chosen;
}

/// Work split over the intra-op threads. LibTorch's at::parallel_for is a
/// header template whose OpenMP version runs in parallel only in
/// translation units compiled with -fopenmp, which this one is not (it runs
/// serially here). With an OpenMP LibTorch, parallelRange therefore calls
/// libgomp's GOMP_parallel, what `#pragma omp parallel` compiles to, looked
/// up at run time; inside that team LibTorch's own ops see
/// at::in_parallel_region() and run single-threaded, as under
/// at::parallel_for. Without libgomp it falls back to at::parallel_for.
using RangeBody = std::function<void(int64_t, int64_t, int64_t)>;

struct OpenMPEntry {
  void (*parallel)(void (*)(void *), void *, unsigned, unsigned) = nullptr;
  int (*threadNum)() = nullptr;
  int (*numThreads)() = nullptr;
};

const OpenMPEntry &openMP() {
  static const OpenMPEntry entry = [] {
    OpenMPEntry e;
    e.parallel = reinterpret_cast<decltype(e.parallel)>(
        dlsym(RTLD_DEFAULT, "GOMP_parallel"));
    e.threadNum = reinterpret_cast<decltype(e.threadNum)>(
        dlsym(RTLD_DEFAULT, "omp_get_thread_num"));
    e.numThreads = reinterpret_cast<decltype(e.numThreads)>(
        dlsym(RTLD_DEFAULT, "omp_get_num_threads"));
    if (!e.parallel || !e.threadNum || !e.numThreads)
      e = OpenMPEntry();
    return e;
  }();
  return entry;
}

/// Makes OpenBLAS (LibTorch's BLAS in Debian's build; LibTorch does not
/// pass its thread count on to it) single-threaded while it lives, and
/// restores its thread count after. Inside parallelRange every thread runs
/// its own GEMMs; OpenBLAS threads of its own would compete with them (2-3x
/// slower on 2 cores). No effect with another BLAS.
/// OpenBLAS's thread-count functions, looked up at run time; both null
/// with another BLAS.
std::pair<int (*)(), void (*)(int)> openBLASThreads() {
  static const auto entry = [] {
    auto get = reinterpret_cast<int (*)()>(
        dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    auto set = reinterpret_cast<void (*)(int)>(
        dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    return std::make_pair(get && set ? get : nullptr,
                          get && set ? set : nullptr);
  }();
  return entry;
}

class SingleThreadedBLAS {
public:
  SingleThreadedBLAS() {
    const auto entry = openBLASThreads();
    set = entry.second;
    if (set && (previous = entry.first()) != 1)
      set(1);
  }
  ~SingleThreadedBLAS() {
    if (set && previous != 1)
      set(previous);
  }
  SingleThreadedBLAS(const SingleThreadedBLAS &) = delete;
  SingleThreadedBLAS &operator=(const SingleThreadedBLAS &) = delete;

private:
  void (*set)(int) = nullptr;
  int previous = 1;
};

/// How many parts parallelRange should cut n items into: one per intra-op
/// thread, one inside a parallel region.
int64_t parallelParts(int64_t n) {
  if (n <= 1 || at::in_parallel_region())
    return 1;
  return std::max<int64_t>(1, std::min<int64_t>(n, at::get_num_threads()));
}

/// Runs body(first, last, part) on `parts` contiguous parts of [0, n), in
/// parallel, part p on thread p (so per-part accumulators need no locks).
/// Rethrows the first exception a part throws.
void parallelRange(int64_t n, int64_t parts, const RangeBody &body) {
  if (n <= 0)
    return;
  parts = std::max<int64_t>(1, std::min(parts, n));
  const int64_t per = (n + parts - 1) / parts;
  auto runPart = [&](int64_t part) {
    const int64_t begin = part * per, end = std::min(n, begin + per);
    if (begin < end)
      body(begin, end, part);
  };
  if (parts == 1) {
    runPart(0);
    return;
  }
  const OpenMPEntry &omp = openMP();
  if (!omp.parallel) {
    at::parallel_for(0, parts, 1, [&](int64_t first, int64_t last) {
      for (int64_t part = first; part < last; ++part)
        runPart(part);
    });
    return;
  }
  struct Shared {
    const OpenMPEntry *omp;
    int64_t parts;
    const std::function<void(int64_t)> *run;
    std::atomic_flag failed = ATOMIC_FLAG_INIT;
    std::exception_ptr error;
  };
  const std::function<void(int64_t)> run = runPart;
  Shared shared;
  shared.omp = &omp;
  shared.parts = parts;
  shared.run = &run;
  auto member = [](void *data) {
    Shared &s = *static_cast<Shared *>(data);
    const int team = s.omp->numThreads(), thread = s.omp->threadNum();
    for (int64_t part = thread; part < s.parts; part += team) {
      try {
        at::internal::ThreadIdGuard guard(thread);
        (*s.run)(part);
      } catch (...) {
        if (!s.failed.test_and_set())
          s.error = std::current_exception();
      }
    }
  };
  // num_threads 0: the default team, as at::parallel_for (see PyTorch
  // #32008 on GOMP's thread pool and changing team sizes).
  omp.parallel(member, &shared, 0, 0);
  if (shared.error)
    std::rethrow_exception(shared.error);
}

/// The fused forward scan on float32 CPU tensors, u, delta [B, L, E]
/// contiguous, A [E, N], Bm, Cm [B, L, N] with unit inner stride, and an
/// optional gate [B, L, E] with unit inner stride (see scanForwardBody).
torch::Tensor fusedScanForward(const torch::Tensor &u,
                               const torch::Tensor &delta,
                               const torch::Tensor &A, const torch::Tensor &Bm,
                               const torch::Tensor &Cm, const torch::Tensor &D,
                               const torch::Tensor &gate) {
  const int64_t batch = u.size(0);
  ScanShape shape{u.size(1), u.size(2), A.size(1), Bm.stride(1)};
  TORCH_INTERNAL_ASSERT(u.is_contiguous() && delta.is_contiguous() &&
                        Bm.stride(2) == 1 && Cm.stride(2) == 1 &&
                        Bm.stride(1) == Cm.stride(1) &&
                        Bm.stride(0) == Cm.stride(0));
  TORCH_INTERNAL_ASSERT(!gate.defined() ||
                        (gate.stride(2) == 1 &&
                         gate.stride(0) == gate.stride(1) * shape.length));
  torch::Tensor AT = A.t().contiguous(), Dc = D.contiguous();
  torch::Tensor y = torch::empty_like(u);
  const float *uData = u.data_ptr<float>(), *deltaData = delta.data_ptr<float>(),
              *ATData = AT.data_ptr<float>(), *BData = Bm.data_ptr<float>(),
              *CData = Cm.data_ptr<float>(), *DData = Dc.data_ptr<float>();
  const float *gateData = gate.defined() ? gate.data_ptr<float>() : nullptr;
  const int64_t gateStride = gate.defined() ? gate.stride(1) : 0;
  float *yData = y.data_ptr<float>();
  const int64_t LE = shape.length * shape.channels;
  const ScanForwardFn kernel = kernels().scanForward;
  parallelRange(batch, parallelParts(batch / 4), [&](int64_t first,
                                                     int64_t last, int64_t) {
    std::vector<float> h(shape.state * shape.channels), dx(shape.channels);
    for (int64_t b = first; b < last; ++b)
      kernel(uData + b * LE, deltaData + b * LE, ATData, BData + b * Bm.stride(0),
             CData + b * Cm.stride(0), DData,
             gateData ? gateData + b * gate.stride(0) : nullptr, gateStride,
             yData + b * LE, shape, h.data(), nullptr, dx.data());
  });
  return y;
}

/// The selective scan as one autograd node: the fused forward, and a fused
/// backward that recomputes each sample's states (L * N * E floats, in
/// cache) instead of keeping B * L * N * E of them. Float32 CPU only; no
/// double backward.
class FusedScanFunction
    : public torch::autograd::Function<FusedScanFunction> {
public:
  static torch::Tensor forward(torch::autograd::AutogradContext *ctx,
                               torch::Tensor u, torch::Tensor delta,
                               torch::Tensor A, torch::Tensor Bm,
                               torch::Tensor Cm, torch::Tensor D) {
    u = u.contiguous();
    delta = delta.contiguous();
    Bm = Bm.contiguous();
    Cm = Cm.contiguous();
    ctx->save_for_backward({u, delta, A, Bm, Cm, D});
    return fusedScanForward(u, delta, A, Bm, Cm, D, torch::Tensor());
  }

  static torch::autograd::tensor_list
  backward(torch::autograd::AutogradContext *ctx,
           torch::autograd::tensor_list gradOutputs) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor &u = saved[0], &delta = saved[1], &A = saved[2],
                        &Bm = saved[3], &Cm = saved[4], &D = saved[5];
    torch::Tensor dy = gradOutputs[0].contiguous();
    const int64_t batch = u.size(0), L = u.size(1), E = u.size(2),
                  N = A.size(1);
    ScanShape shape{L, E, N, N};
    torch::Tensor AT = A.t().contiguous(), Dc = D.contiguous();
    torch::Tensor du = torch::empty_like(u), ddelta = torch::empty_like(delta),
                  dB = torch::empty_like(Bm), dC = torch::empty_like(Cm);
    const int64_t slots = parallelParts(batch);
    torch::Tensor dAT = torch::zeros({slots, N, E}, u.options()),
                  dD = torch::zeros({slots, E}, u.options());
    const float *uData = u.data_ptr<float>(), *deltaData = delta.data_ptr<float>(),
                *ATData = AT.data_ptr<float>(), *BData = Bm.data_ptr<float>(),
                *CData = Cm.data_ptr<float>(), *DData = Dc.data_ptr<float>(),
                *dyData = dy.data_ptr<float>();
    float *duData = du.data_ptr<float>(), *ddData = ddelta.data_ptr<float>(),
          *dBData = dB.data_ptr<float>(), *dCData = dC.data_ptr<float>(),
          *dATData = dAT.data_ptr<float>(), *dDData = dD.data_ptr<float>();
    const Kernels &k = kernels();
    parallelRange(batch, slots, [&](int64_t first, int64_t last, int64_t slot) {
      std::vector<float> history((L + 1) * N * E), g(N * E), tmp(3 * E),
          dx(E), y(L * E);
      for (int64_t b = first; b < last; ++b) {
        const int64_t le = b * L * E, ln = b * L * N;
        k.scanForward(uData + le, deltaData + le, ATData, BData + ln,
                      CData + ln, DData, nullptr, 0, y.data(), shape, nullptr,
                      history.data(), dx.data());
        k.scanBackward(uData + le, deltaData + le, ATData, BData + ln,
                       CData + ln, DData, dyData + le, history.data(), shape,
                       duData + le, ddData + le, dBData + ln, dCData + ln,
                       dATData + slot * N * E, dDData + slot * E, g.data(),
                       tmp.data());
      }
    });
    return {du, ddelta, dAT.sum(0).t(), dB, dC, dD.sum(0)};
  }
};

/// The reference: one step at a time in torch ops on [B, E, N] slices, for
/// other dtypes and devices (and the gradient check in double).
torch::Tensor loopSelectiveScan(const torch::Tensor &u,
                                const torch::Tensor &delta,
                                const torch::Tensor &A, const torch::Tensor &Bm,
                                const torch::Tensor &Cm,
                                const torch::Tensor &D) {
  const int64_t batch = u.size(0), length = u.size(1), channels = u.size(2),
                state = A.size(1);
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

bool isFloatCPU(std::initializer_list<const torch::Tensor *> tensors) {
  for (const torch::Tensor *t : tensors)
    if (t->scalar_type() != torch::kFloat || !t->is_cpu())
      return false;
  return true;
}
} // namespace

std::string tcl::useNativeBLASKernels() {
  static const std::string core = [] {
    auto name = reinterpret_cast<char *(*)()>(
        dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    if (!name)
      return std::string();
    auto quit = reinterpret_cast<void (*)()>(
        dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit"));
    auto init = reinterpret_cast<void (*)()>(
        dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init"));
    const char *forced = nullptr;
    if (__builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
      forced = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      forced = "Haswell";
    if (quit && init && forced && !std::getenv("OPENBLAS_CORETYPE") &&
        strcasecmp(name(), "prescott") == 0) {
      ::setenv("OPENBLAS_CORETYPE", forced, /*overwrite=*/0);
      quit();
      init();
    }
    return std::string(name());
  }();
  return core;
}

void tcl::setTorchThreads(int threads) {
  useNativeBLASKernels();
  if (threads < 1)
    return;
  at::set_num_threads(threads);
  if (auto set = openBLASThreads().second)
    set(threads);
}

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
  if (!isFloatCPU({&u, &delta, &A, &Bm, &Cm, &D}))
    return loopSelectiveScan(u, delta, A, Bm, Cm, D);
  bool needsGrad =
      torch::GradMode::is_enabled() &&
      (u.requires_grad() || delta.requires_grad() || A.requires_grad() ||
       Bm.requires_grad() || Cm.requires_grad() || D.requires_grad());
  if (needsGrad)
    return FusedScanFunction::apply(u, delta, A, Bm, Cm, D);
  return fusedScanForward(u.contiguous(), delta.contiguous(), A,
                          Bm.contiguous(), Cm.contiguous(), D, torch::Tensor());
}

RMSNorm::RMSNorm(int64_t dim, double eps) : eps(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNorm::forward(const torch::Tensor &x) {
  // Inference on float32 CPU: one fused pass per row.
  if (!torch::GradMode::is_enabled() && x.dim() >= 1 &&
      isFloatCPU({&x, &weight}) && x.size(-1) == weight.size(0) &&
      x.numel() > 0) {
    torch::Tensor xc = x.contiguous(), w = weight.contiguous();
    torch::Tensor out = torch::empty_like(xc);
    const int64_t D = x.size(-1), rows = x.numel() / D;
    const float *xData = xc.data_ptr<float>(), *wData = w.data_ptr<float>();
    float *outData = out.data_ptr<float>();
    const RMSNormFn kernel = kernels().rmsNorm;
    parallelRange(rows, parallelParts(rows / 256),
                  [&](int64_t first, int64_t last, int64_t) {
                    kernel(xData + first * D, wData, outData + first * D,
                           last - first, D, static_cast<float>(eps));
                  });
    return out;
  }
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
  torch::Tensor xz = inProj(norm->forward(x));
  torch::Tensor xIn = xz.narrow(-1, 0, dInner), z = xz.narrow(-1, dInner, dInner);
  torch::Tensor A = -torch::exp(ALog);

  // Inference on float32 CPU: the masked convolution and SiLU in one fused
  // kernel, and the SiLU(z) gate fused into the scan's output. The same
  // arithmetic as below up to float rounding.
  if (!torch::GradMode::is_enabled() && isFloatCPU({&x, &mask}) &&
      length > 0) {
    const int64_t batch = x.size(0);
    torch::Tensor maskc = mask.contiguous();
    torch::Tensor wT = conv->weight.reshape({dInner, dConv}).t().contiguous();
    torch::Tensor bias = conv->bias.contiguous();
    torch::Tensor u = torch::empty({batch, length, dInner}, x.options());
    const float *xData = xIn.data_ptr<float>(), *mData = maskc.data_ptr<float>(),
                *wData = wT.data_ptr<float>(), *bData = bias.data_ptr<float>();
    float *uData = u.data_ptr<float>();
    const int64_t xStride = xIn.stride(1), xBatchStride = xIn.stride(0);
    const ConvSiluFn kernel = kernels().convSilu;
    const int64_t E = dInner, K = dConv;
    parallelRange(batch, parallelParts(batch / 16), [&](int64_t first,
                                                        int64_t last,
                                                        int64_t) {
      for (int64_t b = first; b < last; ++b)
        kernel(xData + b * xBatchStride, xStride, mData + b * length, wData,
               bData, uData + b * length * E, length, E, K);
    });
    torch::Tensor dbc = xProj(u);
    // delta = softplus(dt_proj(.)) * mask, in place, fused.
    torch::Tensor delta = dtProj(dbc.narrow(-1, 0, dtRank)).contiguous();
    float *deltaData = delta.data_ptr<float>();
    const SoftplusMaskFn softplusMask = kernels().softplusMask;
    parallelRange(batch, parallelParts(batch / 16),
                  [&](int64_t first, int64_t last, int64_t) {
                    for (int64_t b = first; b < last; ++b)
                      softplusMask(deltaData + b * length * E,
                                   mData + b * length, length, E);
                  });
    torch::Tensor y = fusedScanForward(u, delta, A,
                                       dbc.narrow(-1, dtRank, dState),
                                       dbc.narrow(-1, dtRank + dState, dState),
                                       D, z);
    return torch::addcmul(x, outProj(y), m);
  }

  // Zero padding before the convolution: its taps then see zeros, exactly
  // as at the start of a shorter sequence.
  torch::Tensor u = conv(xIn.mul(m).transpose(1, 2))
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
  torch::Tensor y = selectiveScan(u, delta, A, Bm, Cm, D);
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
  if (config.platformSlots > 0) {
    film = register_module(
        "film", torch::nn::Linear(config.platformSlots, 2 * config.dModel));
    torch::NoGradGuard noGrad;
    film->weight.zero_();
    film->bias.zero_();
    for (int64_t i = 0; config.platformFilm && i < config.layers; ++i) {
      blockFilms.push_back(register_module(
          "film_block" + std::to_string(i),
          torch::nn::Linear(config.platformSlots, 2 * config.dModel)));
      blockFilms.back()->weight.zero_();
      blockFilms.back()->bias.zero_();
    }
  }
  if (config.inputNorm) {
    const int64_t width = config.tokenDim + config.workloadDim;
    inputShift = register_buffer("input_shift", torch::zeros({width}));
    inputScale = register_buffer("input_scale", torch::ones({width}));
    inputFitted = register_buffer("input_fitted", torch::zeros({}));
  }
}

void MambaCostModel::fitInputs(const ModelInput &all) {
  if (!config.inputNorm || inputFitted.item<float>() != 0)
    return;
  torch::NoGradGuard noGrad;
  checkMask(all.tokens, all.mask);
  TORCH_CHECK(all.tokens.size(2) == config.tokenDim, "tokens must be [B, L, ",
              config.tokenDim, "]");
  // Per feature over the real positions: a token feature counts once per
  // real token, a workload feature once per real token of its program (the
  // value the input projection sees at that position). Two passes (mean,
  // then variance) per part, without materialising [B, L, D + W].
  torch::Tensor m = all.mask.to(torch::kFloat);
  torch::Tensor perProgram = m.sum(1); // real tokens of each program
  const double count = perProgram.sum().item<double>();
  if (count < 1)
    return;
  torch::Tensor tokens = all.tokens.to(torch::kFloat);
  torch::Tensor mean = torch::einsum("bld,bl->d", {tokens, m}) / count;
  torch::Tensor var =
      torch::einsum("bld,bl->d", {(tokens - mean).pow(2), m}) / count;
  if (config.workloadDim > 0) {
    checkWorkload(all.tokens, all.workload, config.workloadDim);
    torch::Tensor w = all.workload.to(torch::kFloat);
    torch::Tensor wMean = torch::mv(w.t(), perProgram) / count;
    torch::Tensor wVar = torch::mv((w - wMean).pow(2).t(), perProgram) / count;
    mean = torch::cat({mean, wMean});
    var = torch::cat({var, wVar});
  }
  torch::Tensor std = var.sqrt();
  inputShift.copy_(mean);
  inputScale.copy_(torch::where(std < 1e-3, torch::ones_like(std),
                                1.0 / std.clamp_min(0.1)));
  inputFitted.fill_(1);
}

bool MambaCostModel::copyPlatformSlot(int64_t from, int64_t to) {
  const int64_t slots = config.platformSlots;
  if (slots <= 0 || from < 0 || to < 0 || from >= slots || to >= slots)
    return false;
  if (from == to)
    return true;
  torch::NoGradGuard noGrad;
  // The input projection sees column c_j = (p_j - shift_j) * scale_j of
  // the one-hot p. A program of slot `from` contributes, through the two
  // columns, W_f s_f (1 - m_f) + W_t s_t (-m_t); one of slot `to` with the
  // new column W'_t contributes W_f s_f (-m_f) + W'_t s_t (1 - m_t). Equal
  // when W'_t s_t (1 - m_t) = W_f s_f - W_t s_t m_t.
  const int64_t first = config.tokenDim + config.workloadDim - slots;
  const int64_t f = first + from, t = first + to;
  torch::Tensor w = inputProj->weight;
  double sf = 1, st = 1, mt = 0;
  if (config.inputNorm) {
    sf = inputScale[f].item<double>();
    st = inputScale[t].item<double>();
    mt = inputShift[t].item<double>();
  }
  const double denominator = st * (1 - mt);
  if (std::abs(denominator) < 1e-12)
    return false;
  w.select(1, t).copy_((w.select(1, f) * sf - w.select(1, t) * (st * mt)) /
                       denominator);
  // FiLM layers read the raw one-hot.
  auto copyColumn = [&](torch::nn::Linear &layer) {
    layer->weight.select(1, to).copy_(layer->weight.select(1, from));
  };
  copyColumn(film);
  for (torch::nn::Linear &layer : blockFilms)
    copyColumn(layer);
  return true;
}

torch::Tensor MambaCostModel::forward(const torch::Tensor &tokens,
                                      const torch::Tensor &mask,
                                      const torch::Tensor &workload) {
  return run(tokens, mask, workload, Output::Score);
}

torch::Tensor MambaCostModel::run(const torch::Tensor &tokens,
                                  const torch::Tensor &mask,
                                  const torch::Tensor &workload,
                                  Output output) {
  // Inference on CPU in slices of about kRows positions: the intermediate
  // tensors (up to 4 * expand * dModel bytes per position) then stay in
  // cache and below malloc's mmap threshold, and the slices run in parallel
  // on the intra-op threads, each single-threaded inside (OpenBLAS
  // included), instead of every op splitting its work. Rows are
  // independent, so the results are the same.
  constexpr int64_t kRows = 2048;
  if (!torch::GradMode::is_enabled() && tokens.dim() == 3 &&
      tokens.is_cpu()) {
    const int64_t batch = tokens.size(0);
    const int64_t slice =
        std::max<int64_t>(1, kRows / std::max<int64_t>(1, tokens.size(1)));
    if (batch > slice && mask.defined() && mask.dim() == 2 &&
        mask.size(0) == batch) {
      const int64_t slices = (batch + slice - 1) / slice;
      std::vector<torch::Tensor> parts(slices);
      SingleThreadedBLAS blasGuard;
      parallelRange(slices, parallelParts(slices), [&](int64_t first,
                                                       int64_t last, int64_t) {
        torch::NoGradGuard noGrad;
        for (int64_t i = first; i < last; ++i) {
          const int64_t begin = i * slice,
                        size = std::min(slice, batch - begin);
          parts[i] = forwardSlice(
              tokens.narrow(0, begin, size), mask.narrow(0, begin, size),
              workload.defined() && workload.dim() >= 1 &&
                      workload.size(0) == batch
                  ? workload.narrow(0, begin, size)
                  : workload,
              output);
        }
      });
      return torch::cat(parts);
    }
  }
  return forwardSlice(tokens, mask, workload, output);
}

torch::Tensor MambaCostModel::forwardSlice(const torch::Tensor &tokens,
                                           const torch::Tensor &mask,
                                           const torch::Tensor &workload,
                                           Output output) {
  TORCH_CHECK(tokens.dim() == 3 && tokens.size(2) == config.tokenDim,
              "tokens must be [B, L, ", config.tokenDim, "], got ",
              tokens.sizes());
  if (config.workloadDim > 0)
    checkWorkload(tokens, workload, config.workloadDim);
  checkMask(tokens, mask);
  // Every layer is causal and a position's output counts only through its
  // mask, so positions after the last real token of the batch cannot change
  // any score or embedding: drop them (exact, and most of the work for
  // short programs).
  torch::Tensor x = tokens, maskUsed = mask;
  if (const int64_t length = mask.size(1); length > 1) {
    torch::Tensor used = mask.ne(0).any(0).nonzero();
    const int64_t keep =
        used.numel() ? used.max().item<int64_t>() + 1 : int64_t(1);
    if (keep < length) {
      x = x.narrow(1, 0, keep);
      maskUsed = mask.narrow(1, 0, keep);
    }
  }
  torch::Tensor m = maskUsed.unsqueeze(-1);
  // input_proj of [token; workload] (the workload embedding is every
  // position's), computed as W_token token + (W_workload workload + b): the
  // workload part once per program, not once per position.
  torch::Tensor weight = inputProj->weight, bias = inputProj->bias;
  if (config.inputNorm) {
    // inputProj((x - shift) * scale), with the standardisation folded into
    // the projection's weight and bias (one pass over x fewer).
    weight = weight * inputScale;
    bias = bias - torch::mv(weight, inputShift);
  }
  torch::Tensor h;
  if (config.workloadDim > 0) {
    torch::Tensor perProgram = F::linear(
        workload, weight.narrow(1, config.tokenDim, config.workloadDim), bias);
    h = F::linear(x, weight.narrow(1, 0, config.tokenDim)) +
        perProgram.unsqueeze(1);
  } else {
    h = F::linear(x, weight, bias);
  }
  h = h * m;
  // FiLM: h * (1 + gamma(p)) + beta(p) for the platform one-hot p.
  auto modulate = [&](torch::nn::Linear &layer, const torch::Tensor &in) {
    torch::Tensor gb =
        layer(workload.narrow(1, config.workloadDim - config.platformSlots,
                              config.platformSlots))
            .unsqueeze(1);
    return in * (1 + gb.narrow(2, 0, config.dModel)) +
           gb.narrow(2, config.dModel, config.dModel);
  };
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i < blockFilms.size())
      h = modulate(blockFilms[i], h) * m;
    h = blocks[i]->forward(h, maskUsed);
  }
  h = finalNorm->forward(h);
  if (film)
    h = modulate(film, h);
  if (output == Output::Embedding)
    return (h * m).sum(1) / maskUsed.sum(1, /*keepdim=*/true).clamp_min(1);
  torch::Tensor perPosition = head2(F::silu(head1(h))).squeeze(-1);
  return (perPosition * maskUsed).sum(1);
}

torch::Tensor MambaCostModel::score(const ModelInput &input) {
  return forward(input.tokens, input.mask, input.workload);
}

torch::Tensor MambaCostModel::embed(const ModelInput &input) {
  return run(input.tokens, input.mask, input.workload, Output::Embedding);
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

torch::Tensor TLPCostModel::encode(const torch::Tensor &tokens,
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
  return h;
}

torch::Tensor TLPCostModel::forward(const torch::Tensor &tokens,
                                    const torch::Tensor &mask,
                                    const torch::Tensor &workload) {
  torch::Tensor h = encode(tokens, mask, workload);
  torch::Tensor perPosition = decoder2(torch::relu(decoder1(h))).squeeze(-1);
  return (perPosition * mask).sum(1);
}

torch::Tensor TLPCostModel::score(const ModelInput &input) {
  return forward(input.tokens, input.mask, input.workload);
}

torch::Tensor TLPCostModel::embed(const ModelInput &input) {
  torch::Tensor h = encode(input.tokens, input.mask, input.workload);
  return (h * input.mask.unsqueeze(-1)).sum(1) /
         input.mask.sum(1, /*keepdim=*/true).clamp_min(1);
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

torch::Tensor MLPCostModel::segmentSum(const torch::Tensor &statements,
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
  return torch::zeros({batchSize, config.hidden}, h.options())
      .index_add(0, segments, h);
}

torch::Tensor MLPCostModel::forward(const torch::Tensor &statements,
                                    const torch::Tensor &segments,
                                    int64_t batchSize) {
  torch::Tensor x = segmentSum(statements, segments, batchSize);
  if (norm)
    x = norm(x);
  for (auto &layer : residual)
    x = torch::relu(layer(x)) + x;
  return decoder(x).squeeze(-1);
}

torch::Tensor MLPCostModel::score(const ModelInput &input) {
  return forward(input.statements, input.segments, input.batchSize);
}

torch::Tensor MLPCostModel::embed(const ModelInput &input) {
  return segmentSum(input.statements, input.segments, input.batchSize);
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
  useNativeBLASKernels();
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
  useNativeBLASKernels();
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
