//===- torch_ref.cpp - LibTorch reference timings -------------*- C++ -*-===//
//
// Times LibTorch (1.13, CPU, OpenBLAS / oneDNN as built) on the shapes of
// benchmarks/space_quality: torch::mm 1024x1024x1024 and torch::conv2d for
// three ResNet-50 3x3 convs. The conv input is passed already padded with
// padding 0, exactly the computation of the TCL side's
// linalg.conv_2d_nhwc_hwcf on a padded input (LibTorch's layout is NCHW; the
// FLOPs are the same).
//
// Timing protocol (DESIGN.md, "Honest timing"): warm-up calls, then timed
// calls until at least --min-time seconds and --min-repeats calls; reports
// the median and min latency in seconds and GFLOP/s = FLOPs / median.
//
// Usage: tcl-torch-ref [--threads N] [--min-time SECONDS] [--min-repeats K]
// Prints one JSON object on stdout.
//
//===----------------------------------------------------------------------===//

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "json_escape.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double medianS = 0;
  double minS = 0;
  int repeats = 0;
};

/// Times `fn` (one call = one op) with warm-up and repeats.
Timing timeIt(const std::function<void()> &fn, double minTime,
              int minRepeats) {
  for (int i = 0; i < 3; ++i)
    fn();
  std::vector<double> samples;
  double total = 0;
  while (total < minTime || static_cast<int>(samples.size()) < minRepeats) {
    auto start = Clock::now();
    fn();
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    samples.push_back(s);
    total += s;
  }
  std::sort(samples.begin(), samples.end());
  Timing t;
  t.medianS = samples[samples.size() / 2];
  t.minS = samples.front();
  t.repeats = static_cast<int>(samples.size());
  return t;
}

struct Case {
  std::string name;
  std::string kind;
  std::string shape;
  double flops;
  std::function<void()> run;
};

/// A 3x3 stride-1 conv on an HxWxC NHWC feature map with F filters, pad 1,
/// given to LibTorch pre-padded as NCHW 1xCx(H+2)x(W+2).
Case convCase(int64_t size, int64_t channels, int64_t filters) {
  auto input = torch::randn({1, channels, size + 2, size + 2});
  auto weight = torch::randn({filters, channels, 3, 3});
  Case c;
  c.name = "conv3x3_" + std::to_string(size) + "x" + std::to_string(size) +
           "x" + std::to_string(channels) + "_" + std::to_string(filters);
  c.kind = "conv_2d";
  c.shape = "input 1x" + std::to_string(channels) + "x" +
            std::to_string(size + 2) + "x" + std::to_string(size + 2) +
            " (pre-padded), weight " + std::to_string(filters) + "x" +
            std::to_string(channels) + "x3x3, stride 1, padding 0";
  c.flops = 2.0 * size * size * filters * 9 * channels;
  c.run = [input, weight] {
    auto out = torch::conv2d(input, weight);
    (void)out;
  };
  return c;
}

Case mmCase(int64_t m, int64_t n, int64_t k) {
  auto a = torch::randn({m, k});
  auto b = torch::randn({k, n});
  auto out = torch::empty({m, n});
  Case c;
  c.name = "matmul_" + std::to_string(m) + "x" + std::to_string(n) + "x" +
           std::to_string(k);
  c.kind = "matmul";
  c.shape = std::to_string(m) + "x" + std::to_string(k) + " * " +
            std::to_string(k) + "x" + std::to_string(n);
  c.flops = 2.0 * m * n * k;
  c.run = [a, b, out]() mutable { torch::mm_out(out, a, b); };
  return c;
}

/// at::set_num_threads sizes LibTorch's OpenMP pool, but the pthreads build
/// of OpenBLAS that Debian's libblas.so.3 points at keeps its own pool sized
/// to the machine, so 1-thread mm would run on every core. Sets it through
/// the symbol when OpenBLAS is loaded; returns the name of the BLAS found.
std::string setBlasThreads(int threads) {
  using SetFn = void (*)(int);
  if (auto set = reinterpret_cast<SetFn>(
          dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(threads);
    return "openblas";
  }
  return "unknown";
}

[[noreturn]] void usage(const char *argv0) {
  std::fprintf(stderr,
               "usage: %s [--threads N] [--min-time SECONDS] "
               "[--min-repeats K]\n"
               "Times LibTorch mm 1024^3 and three ResNet-50 3x3 convs; "
               "prints JSON.\n",
               argv0);
  std::exit(2);
}

} // namespace

int main(int argc, char **argv) {
  int threads = 1;
  double minTime = 0.2;
  int minRepeats = 5;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc)
        usage(argv[0]);
      return argv[++i];
    };
    if (arg == "--threads")
      threads = std::atoi(value());
    else if (arg == "--min-time")
      minTime = std::atof(value());
    else if (arg == "--min-repeats")
      minRepeats = std::atoi(value());
    else
      usage(argv[0]);
  }
  if (threads < 1 || minRepeats < 1 || minTime <= 0)
    usage(argv[0]);

  at::set_num_threads(threads);
  at::set_num_interop_threads(1);
  std::string blas = setBlasThreads(threads);
  torch::manual_seed(0);
  torch::NoGradGuard noGrad;

  std::vector<Case> cases = {mmCase(1024, 1024, 1024), convCase(56, 64, 64),
                             convCase(28, 128, 128), convCase(14, 256, 256)};

  std::printf("{\n  \"torch_version\": \"%d.%d.%d\",\n  \"threads\": %d,\n"
              "  \"intraop_threads\": %d,\n  \"blas\": \"%s\",\n"
              "  \"mkldnn\": %s,\n"
              "  \"min_time_s\": %g,\n  \"parallel_info\": \"%s\",\n"
              "  \"ops\": [",
              TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH,
              threads, at::get_num_threads(), blas.c_str(),
              at::hasMKLDNN() ? "true" : "false", minTime,
              jsonEscape(at::get_parallel_info()).c_str());
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case &c = cases[i];
    Timing t = timeIt(c.run, minTime, minRepeats);
    std::printf("%s\n    {\"name\": \"%s\", \"kind\": \"%s\", \"shape\": "
                "\"%s\", \"flops\": %.0f, \"median_s\": %.6e, \"min_s\": "
                "%.6e, \"repeats\": %d, \"gflops\": %.2f}",
                i ? "," : "", c.name.c_str(), c.kind.c_str(), c.shape.c_str(),
                c.flops, t.medianS, t.minS, t.repeats,
                c.flops / t.medianS / 1e9);
    std::fflush(stdout);
  }
  std::printf("\n  ]\n}\n");
  return 0;
}
