//===- TorchModels.h - Networks of the learned cost models ------*- C++ -*-===//
//
// The neural cost models of TCL, in LibTorch and independent of MLIR:
//
//   mamba  TCL's model: stacked Mamba blocks over the primitive sequence
//          (Gu & Dao 2023, "Mamba: Linear-Time Sequence Modeling with
//          Selective State Spaces", Sec. 3).
//   tlp    TLP's attention model over the same sequence (Zhai et al.,
//          ASPLOS'23, "TLP: A Deep Learning-based Cost Model for Tensor
//          Program Tuning", Sec. 4).
//   mlp    TenSet-MLP over statement features (Zheng et al., NeurIPS'21
//          Datasets and Benchmarks, "TenSet: A Large-scale Program
//          Performance Dataset for Learned Tensor Compilers", Sec. 4).
//
// Every model maps one batch of B candidates to scores float [B], higher =
// faster. Inputs, by feature form:
//
//   sequence    tokens float [B, L, D] (L = padded sequence length),
//               mask float [B, L] (1 = real token, 0 = padding),
//               workload float [B, W] (per-task workload embedding; W may
//               be 0).
//   statements  statements float [S, F] (every statement of every program
//               of the batch), segments int64 [S] (program index 0..B-1 of
//               each statement), and the batch size B.
//
// Each model has a config struct with a flat JSON form (toJSON/fromJSON,
// written by hand so the library needs no LLVM); the "model" key names the
// kind, so createModel() can build any model from its describeConfig()
// string. createModel, saveModel, loadWeights, loadModel (and train and
// predict, Trainer.h) never throw: LibTorch exceptions are caught there and
// returned as messages. The modules themselves throw c10::Error like any
// LibTorch module.
//
// Translation units that include this header need LibTorch's flags
// (-frtti -fexceptions); they come with the TCLTorchModels target.
//
//===----------------------------------------------------------------------===//

#ifndef TCL_COSTMODEL_TORCHMODELS_H
#define TCL_COSTMODEL_TORCHMODELS_H

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tcl {

/// The input a model reads.
enum class FeatureForm { Sequence, Statements };

/// One batch of model input. Sequence models read `tokens`, `mask` and
/// `workload`; statement models read `statements`, `segments` and
/// `batchSize`. Unused fields may be left undefined.
struct ModelInput {
  /// float [B, L, D]: one token per primitive, zero rows for padding.
  torch::Tensor tokens;
  /// float [B, L]: 1 for a real token, 0 for padding. Padding must be
  /// trailing for a score to be exactly independent of the padded length.
  torch::Tensor mask;
  /// float [B, W]: the workload embedding of each candidate's task.
  torch::Tensor workload;
  /// float [S, F]: statement features of all programs of the batch.
  torch::Tensor statements;
  /// int64 [S]: program index in 0..batchSize-1 of each statement.
  torch::Tensor segments;
  /// B for the statement form (programs without statements score the bias).
  int64_t batchSize = 0;
};

/// Base of the cost-model networks: a torch::nn::Module with a uniform
/// scoring entry point, so the trainer and the tuner handle every kind alike.
class RankingModel : public torch::nn::Module {
public:
  /// Scores float [B], higher = faster. Throws c10::Error on inconsistent
  /// shapes (the trainer and predict() catch it).
  virtual torch::Tensor score(const ModelInput &input) = 0;
  /// The representation score() is computed from, float [B, H] (H fixed by
  /// the architecture, see each model), e.g. for the sampler (Sampler.h) to
  /// compare candidates by. Same input and errors as score().
  virtual torch::Tensor embed(const ModelInput &input) = 0;
  /// Which fields of ModelInput score() reads.
  virtual FeatureForm form() const = 0;
  /// The flat JSON config this model was built from; createModel() on it
  /// builds a model of the same architecture.
  virtual std::string describeConfig() const = 0;
  /// Number of trainable scalars (parameters, not buffers).
  int64_t parameterCount() const;
  /// Called by train() (Trainer.h) with all of its training data before the
  /// first step, so that a model can fit statistics of its inputs (see
  /// MambaConfig::inputNorm). The default does nothing. Throws c10::Error on
  /// inconsistent shapes.
  virtual void fitInputs(const ModelInput &all) { (void)all; }
  /// Continual models (Distill.h): makes platform slot `to` (an index into
  /// the platform one-hot at the end of the workload features) score every
  /// program exactly as slot `from` does, by rewriting the weights that
  /// read slot `to`; the other slots are unchanged. Returns false, changing
  /// nothing, when the model has no platform slots or an index is out of
  /// range. The default has none.
  virtual bool copyPlatformSlot(int64_t from, int64_t to) {
    (void)from;
    (void)to;
    return false;
  }
};

//===----------------------------------------------------------------------===//
// Mamba (TCL's model)
//===----------------------------------------------------------------------===//

/// Architecture of MambaCostModel. JSON keys: "model":"mamba", "token_dim",
/// "workload_dim", "d_model", "d_state", "d_conv", "expand", "layers",
/// "head_hidden", "platform_slots", "platform_film", "input_norm".
struct MambaConfig {
  /// D, features per token.
  int64_t tokenDim = 0;
  /// W, workload embedding size (concatenated to every token).
  int64_t workloadDim = 0;
  /// Residual stream width.
  int64_t dModel = 64;
  /// N, SSM state size per channel.
  int64_t dState = 16;
  /// Kernel size of the causal depthwise convolution.
  int64_t dConv = 4;
  /// Inner width = expand * dModel.
  int64_t expand = 2;
  /// Number of stacked Mamba blocks.
  int64_t layers = 2;
  /// Hidden width of the per-position head MLP.
  int64_t headHidden = 64;
  /// Continual models (Distill.h): the last platformSlots workload features
  /// are a platform one-hot that also scales and shifts the final hidden
  /// state, h * (1 + gamma(p)) + beta(p), with (gamma, beta) a linear map of
  /// the one-hot initialised to 0 (FiLM, Perez et al., AAAI 2018), so that
  /// platforms can rank differently. 0: none (the key is then left out of
  /// toJSON(), as in models saved before it existed).
  int64_t platformSlots = 0;
  /// With platformSlots: 1 also scales and shifts the input of every Mamba
  /// block by a FiLM of its own (zero-initialised, 2 * dModel * (slots + 1)
  /// parameters per block), so that a new platform can change every layer's
  /// features, not only the last; 0: the final FiLM only (the key is then
  /// left out of toJSON(), as in models saved before it existed).
  int64_t platformFilm = 0;
  /// 1: standardise every input feature (token and workload) before the
  /// input projection, x' = (x - mean) / max(std, 0.1), with the mean and
  /// std of the first data the model is trained on (fitInputs; real tokens
  /// only, per feature; a feature with std < 1e-3 is only shifted). They are
  /// buffers saved with the weights and kept by later training (fine-tuning,
  /// distillation). The 0.1 floor bounds the gain of rare features (log2
  /// units). 0: raw inputs (the key is then left out of toJSON(), as in
  /// models saved before it existed).
  int64_t inputNorm = 0;

  /// Rank of the delta projection, ceil(dModel / 16) as in Mamba.
  int64_t dtRank() const { return (dModel + 15) / 16; }
  int64_t dInner() const { return expand * dModel; }
  /// Flat JSON object with every key.
  std::string toJSON() const;
  /// Parses toJSON() output; missing keys keep their defaults. Returns an
  /// error message (unknown key, bad value, wrong "model") or "".
  std::string fromJSON(const std::string &text);
  /// "" when every size is usable, else what is wrong.
  std::string validate() const;
};

/// Selective scan of Mamba (Gu & Dao 2023, Sec. 3.2, Algorithm 2), the
/// discretized recurrence with zero-order hold on A and Euler on B:
///   h_t = exp(delta_t * A) * h_{t-1} + delta_t * B_t * u_t
///   y_t = <C_t, h_t> + D * u_t
/// per channel, h_0 = 0, as a sequential loop over L in torch ops.
///
/// Shapes: u, delta float [B, L, E]; A float [E, N]; Bm, Cm float [B, L, N];
/// D float [E]. Returns y float [B, L, E]. A position with delta = 0 and
/// u = 0 leaves the state unchanged, which is how padding is skipped.
/// Without autograd (GradMode off or no input requiring a gradient) on
/// float32 CPU tensors, a fused C++ loop computes the same recurrence
/// several times faster. Throws c10::Error on inconsistent shapes.
torch::Tensor selectiveScan(const torch::Tensor &u, const torch::Tensor &delta,
                            const torch::Tensor &A, const torch::Tensor &Bm,
                            const torch::Tensor &Cm, const torch::Tensor &D);

/// RMSNorm (Zhang & Sennrich 2019): x / sqrt(mean(x^2) + eps) * weight over
/// the last dimension.
class RMSNorm : public torch::nn::Module {
public:
  RMSNorm(int64_t dim, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor &x);

private:
  torch::Tensor weight;
  double eps;
};

/// One residual Mamba block (Gu & Dao 2023, Sec. 3.4, Fig. 3):
///   x + out_proj(SSM(SiLU(conv1d(in_x))) * SiLU(z)),  (in_x, z) =
///   in_proj(RMSNorm(x)),
/// with SSM the selective scan whose delta, B and C depend on the input
/// (x_proj to (delta_rank, B, C), dt_proj + softplus for delta),
/// A = -exp(A_log), A_log initialized to log(1..d_state) per channel, and
/// the D skip. Input and output float [B, L, dModel]; mask float [B, L].
class MambaBlock : public torch::nn::Module {
public:
  explicit MambaBlock(const MambaConfig &config);
  torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &mask);

private:
  int64_t dInner, dState, dtRank, dConv;
  std::shared_ptr<RMSNorm> norm;
  torch::nn::Linear inProj{nullptr}, xProj{nullptr}, dtProj{nullptr},
      outProj{nullptr};
  torch::nn::Conv1d conv{nullptr};
  torch::Tensor ALog, D;
};

/// TCL's cost model: input projection of [token, workload] to dModel, stacked
/// Mamba blocks, a final RMSNorm, and a per-position MLP head whose outputs
/// are masked and summed over positions (the TLP-style sum). Padding is
/// invisible: it is zeroed before every convolution and scan, and its delta
/// is 0 so the scan state passes over it unchanged. The embedding is the
/// mean of the final RMSNorm's output over the real positions, float
/// [B, dModel] (zeros for a sequence without real tokens).
class MambaCostModel : public RankingModel {
public:
  /// Throws c10::Error when config.validate() fails (createModel does not).
  explicit MambaCostModel(const MambaConfig &config);
  /// tokens [B, L, D], mask [B, L], workload [B, W] -> scores [B].
  torch::Tensor forward(const torch::Tensor &tokens, const torch::Tensor &mask,
                        const torch::Tensor &workload);
  torch::Tensor score(const ModelInput &input) override;
  /// tokens [B, L, D], mask [B, L], workload [B, W] -> [B, dModel].
  torch::Tensor embed(const ModelInput &input) override;
  FeatureForm form() const override { return FeatureForm::Sequence; }
  std::string describeConfig() const override { return config.toJSON(); }
  const MambaConfig &getConfig() const { return config; }
  /// With MambaConfig::inputNorm, fits the input statistics on `all`
  /// (tokens, mask, workload) unless they are fitted already; else nothing.
  void fitInputs(const ModelInput &all) override;
  /// Copies slot `from`'s columns of the input projection (undoing the
  /// input standardisation of both slots) and of every platform FiLM.
  bool copyPlatformSlot(int64_t from, int64_t to) override;

private:
  /// What run() computes: scores [B] or embeddings [B, dModel].
  enum class Output { Score, Embedding };
  /// forward() or embed(): cuts large inference batches into slices.
  torch::Tensor run(const torch::Tensor &tokens, const torch::Tensor &mask,
                    const torch::Tensor &workload, Output output);
  /// run() on one slice of the batch.
  torch::Tensor forwardSlice(const torch::Tensor &tokens,
                             const torch::Tensor &mask,
                             const torch::Tensor &workload, Output output);

  MambaConfig config;
  torch::nn::Linear inputProj{nullptr}, head1{nullptr}, head2{nullptr};
  /// The platform FiLM (MambaConfig::platformSlots > 0), and one per block
  /// with MambaConfig::platformFilm.
  torch::nn::Linear film{nullptr};
  std::vector<torch::nn::Linear> blockFilms;
  /// MambaConfig::inputNorm: x' = (x - inputShift) * inputScale, float
  /// [tokenDim + workloadDim], and inputFitted float [] (1 once fitted).
  torch::Tensor inputShift, inputScale, inputFitted;
  std::vector<std::shared_ptr<MambaBlock>> blocks;
  std::shared_ptr<RMSNorm> finalNorm;
};

//===----------------------------------------------------------------------===//
// TLP
//===----------------------------------------------------------------------===//

/// Architecture of TLPCostModel. JSON keys: "model":"tlp", "token_dim",
/// "workload_dim", "hidden", "heads", "res_blocks", "decoder_hidden".
struct TLPConfig {
  int64_t tokenDim = 0;
  int64_t workloadDim = 0;
  /// Width of the encoder, attention and residual blocks (TLP: 256).
  int64_t hidden = 256;
  /// Attention heads (TLP: 8); must divide hidden.
  int64_t heads = 8;
  /// Residual Linear+ReLU blocks after the attention (TLP: 2).
  int64_t resBlocks = 2;
  /// Hidden width of the per-position decoder.
  int64_t decoderHidden = 64;

  std::string toJSON() const;
  std::string fromJSON(const std::string &text);
  std::string validate() const;
};

/// TLP (Zhai et al., ASPLOS'23, Sec. 4.3, Fig. 6): a two-layer linear+ReLU
/// encoder of [token, workload], multi-head self-attention with a key padding
/// mask (plus a residual connection), residual Linear+ReLU blocks, a
/// per-position decoder to a scalar, and a masked sum over positions. TLP
/// reads the token alone; the workload is concatenated here so that every
/// sequence model sees the same features. The embedding is the mean of the
/// decoder's input (the residual blocks' output) over the real positions,
/// float [B, hidden] (zeros for a sequence without real tokens).
class TLPCostModel : public RankingModel {
public:
  /// Throws c10::Error when config.validate() fails (createModel does not).
  explicit TLPCostModel(const TLPConfig &config);
  /// tokens [B, L, D], mask [B, L], workload [B, W] -> scores [B].
  torch::Tensor forward(const torch::Tensor &tokens, const torch::Tensor &mask,
                        const torch::Tensor &workload);
  torch::Tensor score(const ModelInput &input) override;
  /// tokens [B, L, D], mask [B, L], workload [B, W] -> [B, hidden].
  torch::Tensor embed(const ModelInput &input) override;
  FeatureForm form() const override { return FeatureForm::Sequence; }
  std::string describeConfig() const override { return config.toJSON(); }
  const TLPConfig &getConfig() const { return config; }

private:
  /// Per-position encodings before the decoder, float [B, L, hidden].
  torch::Tensor encode(const torch::Tensor &tokens, const torch::Tensor &mask,
                       const torch::Tensor &workload);

  TLPConfig config;
  torch::nn::Linear encoder1{nullptr}, encoder2{nullptr}, decoder1{nullptr},
      decoder2{nullptr};
  torch::nn::MultiheadAttention attention{nullptr};
  std::vector<torch::nn::Linear> residual;
};

//===----------------------------------------------------------------------===//
// TenSet-MLP
//===----------------------------------------------------------------------===//

/// Architecture of MLPCostModel. JSON keys: "model":"mlp", "statement_dim",
/// "hidden", "res_blocks", "batch_norm".
struct MLPConfig {
  /// F, features per statement.
  int64_t statementDim = 0;
  /// Width of the encoder and the residual head.
  int64_t hidden = 256;
  /// Residual Linear+ReLU blocks after the segment sum (TenSet: 2).
  int64_t resBlocks = 2;
  /// 1: BatchNorm1d after the segment sum (an option of TenSet's module);
  /// it then needs batches of at least 2 programs in training.
  int64_t batchNorm = 0;

  std::string toJSON() const;
  std::string fromJSON(const std::string &text);
  std::string validate() const;
};

/// TenSet-MLP (Zheng et al., NeurIPS'21, Sec. 4 and Appendix, the
/// "SegmentSumMLP" of its code base): a two-layer per-statement MLP encoder,
/// a sum over each program's statements (segment sum, index_add), optional
/// BatchNorm, residual Linear+ReLU blocks and a linear decoder to a scalar.
/// The embedding is the segment sum, float [B, hidden] (zeros for a program
/// without statements).
class MLPCostModel : public RankingModel {
public:
  /// Throws c10::Error when config.validate() fails (createModel does not).
  explicit MLPCostModel(const MLPConfig &config);
  /// statements [S, F], segments int64 [S] in 0..batchSize-1 -> scores [B].
  torch::Tensor forward(const torch::Tensor &statements,
                        const torch::Tensor &segments, int64_t batchSize);
  torch::Tensor score(const ModelInput &input) override;
  /// statements [S, F], segments int64 [S] -> [batchSize, hidden].
  torch::Tensor embed(const ModelInput &input) override;
  FeatureForm form() const override { return FeatureForm::Statements; }
  std::string describeConfig() const override { return config.toJSON(); }
  const MLPConfig &getConfig() const { return config; }

private:
  /// The sum of each program's statement encodings, float [B, hidden].
  torch::Tensor segmentSum(const torch::Tensor &statements,
                           const torch::Tensor &segments, int64_t batchSize);

  MLPConfig config;
  torch::nn::Linear encoder1{nullptr}, encoder2{nullptr}, decoder{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
  std::vector<torch::nn::Linear> residual;
};

//===----------------------------------------------------------------------===//
// Creation, save and load
//===----------------------------------------------------------------------===//

/// A model or the reason there is none.
struct ModelOrError {
  std::shared_ptr<RankingModel> model;
  std::string error;
  explicit operator bool() const { return model != nullptr; }
};

/// Builds the model a config JSON describes (its "model" key: "mamba", "tlp"
/// or "mlp"), after torch::manual_seed(seed) so that initial weights are
/// reproducible. Fails on an unknown kind, bad JSON or unusable sizes.
ModelOrError createModel(const std::string &configJSON, uint64_t seed = 0);

/// Writes the model's parameters, buffers and describeConfig() to `path`
/// (torch::serialize archive, the config under the key "tcl_config").
/// Returns "" or an error message.
std::string saveModel(RankingModel &model, const std::string &path);

/// Loads parameters saved by saveModel into `model`. Fails with a message,
/// leaving the model's weights unspecified, if the file is unreadable, has no
/// config, or its config differs from model.describeConfig() (another
/// architecture or feature width). Returns "" on success.
std::string loadWeights(RankingModel &model, const std::string &path);

/// Builds the model described by the config stored in `path` and loads its
/// weights. When `expectedConfig` is non-empty, the stored config must equal
/// it (compared after parsing), else the load fails with a message naming
/// both.
ModelOrError loadModel(const std::string &path,
                       const std::string &expectedConfig = "");

/// Uses `threads` threads for LibTorch's intra-op parallelism and for
/// OpenBLAS, LibTorch's BLAS in Debian's build, which does not follow
/// at::set_num_threads: with its own default thread count its GEMMs compete
/// with the intra-op threads (measured: one-thread training 1.7x slower on 2
/// busy cores). No effect for threads < 1.
void setTorchThreads(int threads);

/// Makes OpenBLAS (LibTorch's BLAS in Debian's build) use this CPU's GEMM
/// kernels where its CPU detection fell back to the generic SSE3 ones.
/// Debian 12's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not know newer Intel
/// Xeons (e.g. family 6 model 207) and picks "Prescott": measured there,
/// mamba predictions run 2.2x slower than with its SkylakeX kernels
/// (docs/results/cost_models_seeds.md, 2026-12-07). When OpenBLAS is loaded,
/// reports "Prescott", OPENBLAS_CORETYPE is unset and the CPU has AVX-512
/// F/BW/DQ/VL (else AVX2 and FMA), this sets OPENBLAS_CORETYPE to SkylakeX
/// (else Haswell) and re-runs OpenBLAS's kernel selection
/// (gotoblas_dynamic_quit/init, what the variable does at load time). Runs
/// once per process, from setTorchThreads, createModel and loadModel,
/// before their first BLAS call. Returns OpenBLAS's core name afterwards,
/// or "" without OpenBLAS.
std::string useNativeBLASKernels();

} // namespace tcl

#endif // TCL_COSTMODEL_TORCHMODELS_H
