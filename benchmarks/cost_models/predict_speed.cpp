//===- predict_speed.cpp - Prediction and training speed of the models ---===//
//
// Times the LibTorch cost models (TorchModels.h) with their default configs
// on random inputs of the real feature shapes:
//
//   mamba, tlp  tokens [B, L=64, D=kNumTokenFeatures], mask [B, L],
//               workload [B, W=kNumTaskFeatures]
//   mlp         2 statements x kNumStatementFeatures per program
//
// Prediction: tcl::predict (eval mode, no grad) over --programs programs in
// batches of 512 / 1024 / 4096, with 1 and 2 intra-op threads
// (at::set_num_threads); programs/s = programs / median wall time of
// --repeats timed passes after one warm-up pass. Sequence models are timed
// with every position real (--length=64, the worst case) and, with
// --length=K, K real tokens and 64-K trailing padding (a matmul schedule has
// 38 tokens).
//
// Training: one epoch of tcl::train (LambdaRank, Adam, defaults) on
// --train-programs random programs in --train-groups groups, with
// --train-threads threads.
//
// Usage: tcl-predict-speed [--models=mamba,tlp,mlp] [--batches=512,1024,4096]
//          [--threads=1,2] [--lengths=64,38] [--programs=8192] [--repeats=3]
//          [--train-programs=4096] [--train-groups=64] [--train-threads=2]
//          [--no-train] [--json=FILE] [--mamba-config=JSON]
// --mamba-config replaces keys of mamba's default config, e.g.
// '{"d_model":32,"d_state":8}' (the feature widths stay this build's).
// Prints a table on stdout and, with --json, writes the results as JSON.
//
//===----------------------------------------------------------------------===//

#include "tcl/CostModel/TorchModels.h"
#include "tcl/CostModel/Trainer.h"
#include "tcl/Features/SequenceFeatures.h"
#include "tcl/Features/StatementFeatures.h"

#include "../space_quality/json_escape.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

using namespace tcl;

namespace {

constexpr int64_t kLength = 64, kTokenDim = kNumTokenFeatures,
                  kWorkloadDim = kNumTaskFeatures,
                  kStatementDim = kNumStatementFeatures,
                  kStatementsPerProgram = 2;

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<std::string> splitList(const std::string &text) {
  std::vector<std::string> out;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ','))
    if (!item.empty())
      out.push_back(item);
  return out;
}

std::vector<int64_t> splitInts(const std::string &text) {
  std::vector<int64_t> out;
  for (const std::string &item : splitList(text))
    out.push_back(std::stoll(item));
  return out;
}

/// The default config of `kind`, or for mamba `mambaOverride` (config JSON
/// keys, e.g. {"d_model":32,"d_state":8}) over the defaults; the feature
/// widths are always the real ones.
std::string defaultConfig(const std::string &kind,
                          const std::string &mambaOverride = "") {
  if (kind == "mamba") {
    MambaConfig config;
    if (!mambaOverride.empty()) {
      std::string error = config.fromJSON(mambaOverride);
      if (!error.empty()) {
        std::fprintf(stderr, "tcl-predict-speed: --mamba-config: %s\n",
                     error.c_str());
        std::exit(2);
      }
    }
    config.tokenDim = kTokenDim;
    config.workloadDim = kWorkloadDim;
    return config.toJSON();
  }
  if (kind == "tlp")
    return TLPConfig{kTokenDim, kWorkloadDim}.toJSON();
  MLPConfig config;
  config.statementDim = kStatementDim;
  return config.toJSON();
}

/// `n` random programs in both feature forms; sequence programs have
/// `length` real tokens followed by padding.
RankingData randomData(int64_t n, int64_t length, int64_t groups) {
  RankingData data;
  data.mask = torch::zeros({n, kLength});
  data.mask.narrow(1, 0, length).fill_(1.0f);
  data.tokens = torch::rand({n, kLength, kTokenDim}) * 4 *
                data.mask.unsqueeze(-1);
  data.workload = torch::rand({n, kWorkloadDim}) * 4;
  data.statements = torch::rand({n * kStatementsPerProgram, kStatementDim}) * 4;
  data.segments = torch::arange(n, torch::kLong)
                      .repeat_interleave(kStatementsPerProgram);
  data.labels = torch::rand({n});
  data.groups = torch::arange(n, torch::kLong).remainder(groups);
  return data;
}

struct PredictRow {
  std::string model, config;
  int64_t length, batch, threads;
  double programsPerSecond, medianSeconds;
};

struct TrainRow {
  std::string model;
  int64_t threads, programs;
  double epochSeconds;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> models = {"mamba", "tlp", "mlp"};
  std::vector<int64_t> batches = {512, 1024, 4096}, threads = {1, 2},
                       lengths = {64};
  int64_t programs = 8192, repeats = 3, trainPrograms = 4096, trainGroups = 64,
          trainThreads = 2;
  bool doTrain = true;
  std::string jsonPath, mambaOverride;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *key) -> const char * {
      size_t n = std::strlen(key);
      return arg.compare(0, n, key) == 0 ? arg.c_str() + n : nullptr;
    };
    if (const char *v = value("--models="))
      models = splitList(v);
    else if (const char *v = value("--batches="))
      batches = splitInts(v);
    else if (const char *v = value("--threads="))
      threads = splitInts(v);
    else if (const char *v = value("--lengths="))
      lengths = splitInts(v);
    else if (const char *v = value("--programs="))
      programs = std::stoll(v);
    else if (const char *v = value("--repeats="))
      repeats = std::max<int64_t>(1, std::stoll(v));
    else if (const char *v = value("--train-programs="))
      trainPrograms = std::stoll(v);
    else if (const char *v = value("--train-groups="))
      trainGroups = std::stoll(v);
    else if (const char *v = value("--train-threads="))
      trainThreads = std::stoll(v);
    else if (arg == "--no-train")
      doTrain = false;
    else if (const char *v = value("--json="))
      jsonPath = v;
    else if (const char *v = value("--mamba-config="))
      mambaOverride = v;
    else {
      std::fprintf(stderr, "tcl-predict-speed: unknown argument '%s'\n",
                   arg.c_str());
      return 2;
    }
  }
  for (int64_t length : lengths)
    if (length < 1 || length > kLength) {
      std::fprintf(stderr, "tcl-predict-speed: lengths must be in 1..%lld\n",
                   static_cast<long long>(kLength));
      return 2;
    }

  std::vector<PredictRow> predictRows;
  std::vector<TrainRow> trainRows;
  std::printf("%-6s %6s %6s %7s %14s\n", "model", "length", "batch",
              "threads", "programs/s");
  for (const std::string &kind : models) {
    ModelOrError created = createModel(defaultConfig(kind, mambaOverride), /*seed=*/0);
    if (!created) {
      std::fprintf(stderr, "tcl-predict-speed: %s\n", created.error.c_str());
      return 1;
    }
    RankingModel &model = *created.model;
    const bool sequence = model.form() == FeatureForm::Sequence;
    for (int64_t length : lengths) {
      if (!sequence && length != lengths.front())
        continue;
      torch::manual_seed(1);
      RankingData data = randomData(programs, length, trainGroups);
      for (int64_t t : threads) {
        setTorchThreads(static_cast<int>(t));
        for (int64_t batch : batches) {
          std::string error;
          std::vector<double> times;
          for (int64_t r = 0; r <= repeats; ++r) {
            auto start = Clock::now();
            torch::Tensor scores = predict(model, data, batch, &error);
            double elapsed = seconds(start);
            if (!scores.defined()) {
              std::fprintf(stderr, "tcl-predict-speed: %s\n", error.c_str());
              return 1;
            }
            if (r > 0) // the first pass warms up
              times.push_back(elapsed);
          }
          double m = median(times);
          PredictRow row{kind, model.describeConfig(), sequence ? length : 0,
                         batch, t,
                         static_cast<double>(programs) / m, m};
          predictRows.push_back(row);
          std::printf("%-6s %6lld %6lld %7lld %14.0f\n", kind.c_str(),
                      static_cast<long long>(row.length),
                      static_cast<long long>(batch), static_cast<long long>(t),
                      row.programsPerSecond);
          std::fflush(stdout);
        }
      }
    }
  }

  if (doTrain) {
    std::printf("\n%-6s %7s %9s %10s\n", "model", "threads", "programs",
                "epoch s");
    for (const std::string &kind : models) {
      ModelOrError created = createModel(defaultConfig(kind, mambaOverride), /*seed=*/0);
      if (!created)
        return 1;
      torch::manual_seed(2);
      RankingData data = randomData(trainPrograms, kLength, trainGroups);
      setTorchThreads(static_cast<int>(trainThreads));
      TrainOptions options;
      options.epochs = 1;
      TrainResult result = train(*created.model, data, options);
      if (!result.error.empty()) {
        std::fprintf(stderr, "tcl-predict-speed: %s\n", result.error.c_str());
        return 1;
      }
      trainRows.push_back({kind, trainThreads, trainPrograms, result.seconds});
      std::printf("%-6s %7lld %9lld %10.2f\n", kind.c_str(),
                  static_cast<long long>(trainThreads),
                  static_cast<long long>(trainPrograms), result.seconds);
      std::fflush(stdout);
    }
  }

  if (!jsonPath.empty()) {
    FILE *file = std::fopen(jsonPath.c_str(), "w");
    if (!file) {
      std::fprintf(stderr, "tcl-predict-speed: cannot write '%s'\n",
                   jsonPath.c_str());
      return 1;
    }
    std::fprintf(file, "{\n  \"programs\": %lld,\n  \"repeats\": %lld,\n"
                       "  \"predict\": [",
                 static_cast<long long>(programs),
                 static_cast<long long>(repeats));
    for (size_t i = 0; i < predictRows.size(); ++i) {
      const PredictRow &r = predictRows[i];
      std::fprintf(file,
                   "%s\n    {\"model\": \"%s\", \"config\": \"%s\", "
                   "\"length\": %lld, "
                   "\"batch\": %lld, \"threads\": %lld, "
                   "\"programs_per_s\": %.1f, \"median_s\": %.6f}",
                   i ? "," : "", r.model.c_str(),
                   jsonEscape(r.config).c_str(),
                   static_cast<long long>(r.length),
                   static_cast<long long>(r.batch),
                   static_cast<long long>(r.threads), r.programsPerSecond,
                   r.medianSeconds);
    }
    std::fprintf(file, "\n  ],\n  \"train\": [");
    for (size_t i = 0; i < trainRows.size(); ++i) {
      const TrainRow &r = trainRows[i];
      std::fprintf(file,
                   "%s\n    {\"model\": \"%s\", \"threads\": %lld, "
                   "\"programs\": %lld, \"epoch_s\": %.3f}",
                   i ? "," : "", r.model.c_str(),
                   static_cast<long long>(r.threads),
                   static_cast<long long>(r.programs), r.epochSeconds);
    }
    std::fprintf(file, "\n  ]\n}\n");
    std::fclose(file);
  }
  return 0;
}
