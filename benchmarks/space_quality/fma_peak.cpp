//===- fma_peak.cpp - FP32 FMA peak micro-benchmark ------------*- C++ -*-===//
//
// Measures the machine's FP32 fused-multiply-add peak in GFLOP/s, the roof
// that benchmarks/space_quality compares TCL and LibTorch against.
//
// Each thread runs independent chains of vector FMAs (16 zmm accumulators
// for AVX-512, 12 ymm accumulators for AVX2), enough to cover FMA latency x
// FMA ports on current x86 cores, so the loop is bound by FMA throughput.
// One FMA on W lanes is 2*W FLOPs. The ISA kernels use function-level target
// attributes, so the binary runs (and reports the AVX-512 variant as
// unsupported) on machines without AVX-512.
//
// Usage: tcl-fma-peak [--threads N] [--min-time SECONDS] [--trials K]
// Prints one JSON object on stdout.
//
//===----------------------------------------------------------------------===//

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "json_escape.h"

namespace {

using Clock = std::chrono::steady_clock;

/// Runs `iters` iterations of 16 independent 16-lane FMAs; returns a value
/// derived from every accumulator so the loop cannot be removed.
__attribute__((target("avx512f,fma"), noinline)) float
kernelAvx512(int64_t iters, float seed) {
  __m512 a = _mm512_set1_ps(seed);
  __m512 b = _mm512_set1_ps(0.999999f);
  __m512 c0 = _mm512_set1_ps(seed * 0.1f), c1 = _mm512_set1_ps(seed * 0.2f),
         c2 = _mm512_set1_ps(seed * 0.3f), c3 = _mm512_set1_ps(seed * 0.4f),
         c4 = _mm512_set1_ps(seed * 0.5f), c5 = _mm512_set1_ps(seed * 0.6f),
         c6 = _mm512_set1_ps(seed * 0.7f), c7 = _mm512_set1_ps(seed * 0.8f),
         c8 = _mm512_set1_ps(seed * 0.9f), c9 = _mm512_set1_ps(seed * 1.0f),
         c10 = _mm512_set1_ps(seed * 1.1f), c11 = _mm512_set1_ps(seed * 1.2f),
         c12 = _mm512_set1_ps(seed * 1.3f), c13 = _mm512_set1_ps(seed * 1.4f),
         c14 = _mm512_set1_ps(seed * 1.5f), c15 = _mm512_set1_ps(seed * 1.6f);
  for (int64_t i = 0; i < iters; ++i) {
    c0 = _mm512_fmadd_ps(a, b, c0);
    c1 = _mm512_fmadd_ps(a, b, c1);
    c2 = _mm512_fmadd_ps(a, b, c2);
    c3 = _mm512_fmadd_ps(a, b, c3);
    c4 = _mm512_fmadd_ps(a, b, c4);
    c5 = _mm512_fmadd_ps(a, b, c5);
    c6 = _mm512_fmadd_ps(a, b, c6);
    c7 = _mm512_fmadd_ps(a, b, c7);
    c8 = _mm512_fmadd_ps(a, b, c8);
    c9 = _mm512_fmadd_ps(a, b, c9);
    c10 = _mm512_fmadd_ps(a, b, c10);
    c11 = _mm512_fmadd_ps(a, b, c11);
    c12 = _mm512_fmadd_ps(a, b, c12);
    c13 = _mm512_fmadd_ps(a, b, c13);
    c14 = _mm512_fmadd_ps(a, b, c14);
    c15 = _mm512_fmadd_ps(a, b, c15);
  }
  __m512 s = _mm512_add_ps(
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                    _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7))),
      _mm512_add_ps(
          _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)),
          _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15))));
  return _mm512_reduce_add_ps(s);
}

/// 12 independent 8-lane FMAs per iteration (16 ymm registers: 12
/// accumulators plus the two operands).
__attribute__((target("avx2,fma"), noinline)) float kernelAvx2(int64_t iters,
                                                                float seed) {
  __m256 a = _mm256_set1_ps(seed);
  __m256 b = _mm256_set1_ps(0.999999f);
  __m256 c0 = _mm256_set1_ps(seed * 0.1f), c1 = _mm256_set1_ps(seed * 0.2f),
         c2 = _mm256_set1_ps(seed * 0.3f), c3 = _mm256_set1_ps(seed * 0.4f),
         c4 = _mm256_set1_ps(seed * 0.5f), c5 = _mm256_set1_ps(seed * 0.6f),
         c6 = _mm256_set1_ps(seed * 0.7f), c7 = _mm256_set1_ps(seed * 0.8f),
         c8 = _mm256_set1_ps(seed * 0.9f), c9 = _mm256_set1_ps(seed * 1.0f),
         c10 = _mm256_set1_ps(seed * 1.1f), c11 = _mm256_set1_ps(seed * 1.2f);
  for (int64_t i = 0; i < iters; ++i) {
    c0 = _mm256_fmadd_ps(a, b, c0);
    c1 = _mm256_fmadd_ps(a, b, c1);
    c2 = _mm256_fmadd_ps(a, b, c2);
    c3 = _mm256_fmadd_ps(a, b, c3);
    c4 = _mm256_fmadd_ps(a, b, c4);
    c5 = _mm256_fmadd_ps(a, b, c5);
    c6 = _mm256_fmadd_ps(a, b, c6);
    c7 = _mm256_fmadd_ps(a, b, c7);
    c8 = _mm256_fmadd_ps(a, b, c8);
    c9 = _mm256_fmadd_ps(a, b, c9);
    c10 = _mm256_fmadd_ps(a, b, c10);
    c11 = _mm256_fmadd_ps(a, b, c11);
  }
  __m256 s = _mm256_add_ps(
      _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                    _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7))),
      _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float sum = 0;
  for (float lane : lanes)
    sum += lane;
  return sum;
}

struct Variant {
  const char *name;
  float (*kernel)(int64_t, float);
  /// FLOPs per loop iteration: accumulators x lanes x 2.
  int64_t flopsPerIter;
  bool supported;
};

/// Runs `kernel` on `threads` threads at once, all released together;
/// returns the wall time in seconds from release to the last finish.
double runParallel(const Variant &v, int threads, int64_t iters) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> finish(threads);
  std::vector<float> sinks(threads);
  Clock::time_point start;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      sinks[t] = v.kernel(iters, 1.0f + t);
      finish[t] =
          std::chrono::duration<double>(Clock::now() - start).count();
    });
  while (ready.load() != threads) {
  }
  start = Clock::now();
  go.store(true, std::memory_order_release);
  for (std::thread &th : pool)
    th.join();
  volatile float sink = 0;
  for (float s : sinks)
    sink = sink + s;
  (void)sink;
  return *std::max_element(finish.begin(), finish.end());
}

struct Result {
  double bestGflops = 0;
  double medianGflops = 0;
  double seconds = 0;
  int64_t iters = 0;
};

/// Calibrates the iteration count to `minTime` seconds, then returns the
/// best and median aggregate GFLOP/s over `trials` timed runs.
Result measure(const Variant &v, int threads, double minTime, int trials) {
  int64_t iters = 1 << 16;
  double seconds = runParallel(v, threads, iters);
  while (seconds < minTime) {
    double scale = seconds > 1e-4 ? 1.2 * minTime / seconds : 16.0;
    iters = static_cast<int64_t>(iters * std::min(scale, 16.0)) + 1;
    seconds = runParallel(v, threads, iters);
  }
  std::vector<double> gflops;
  for (int i = 0; i < trials; ++i) {
    double s = runParallel(v, threads, iters);
    gflops.push_back(double(v.flopsPerIter) * iters * threads / s / 1e9);
  }
  std::sort(gflops.begin(), gflops.end());
  Result r;
  r.bestGflops = gflops.back();
  r.medianGflops = gflops[gflops.size() / 2];
  r.seconds = seconds;
  r.iters = iters;
  return r;
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos)
        return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

[[noreturn]] void usage(const char *argv0) {
  std::fprintf(stderr,
               "usage: %s [--threads N] [--min-time SECONDS] [--trials K]\n"
               "Measures FP32 FMA peak GFLOP/s (AVX-512 and AVX2) on N "
               "threads; prints JSON.\n",
               argv0);
  std::exit(2);
}

} // namespace

int main(int argc, char **argv) {
  int threads = 1;
  double minTime = 0.2;
  int trials = 5;
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
    else if (arg == "--trials")
      trials = std::atoi(value());
    else
      usage(argv[0]);
  }
  if (threads < 1 || trials < 1 || minTime <= 0)
    usage(argv[0]);

  __builtin_cpu_init();
  const Variant variants[] = {
      {"avx512", kernelAvx512, 16 * 16 * 2,
       static_cast<bool>(__builtin_cpu_supports("avx512f"))},
      {"avx2", kernelAvx2, 12 * 8 * 2,
       __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")},
  };

  std::printf("{\n  \"cpu_model\": \"%s\",\n  \"threads\": %d,\n"
              "  \"hardware_threads\": %u,\n  \"min_time_s\": %g,\n"
              "  \"trials\": %d",
              jsonEscape(cpuModel()).c_str(), threads,
              std::thread::hardware_concurrency(), minTime, trials);
  for (const Variant &v : variants) {
    if (!v.supported) {
      std::printf(",\n  \"%s\": null", v.name);
      continue;
    }
    Result r = measure(v, threads, minTime, trials);
    std::printf(",\n  \"%s\": {\"gflops\": %.2f, \"median_gflops\": %.2f, "
                "\"gflops_per_thread\": %.2f, \"flops_per_iter\": %lld, "
                "\"iters\": %lld, \"seconds\": %.4f}",
                v.name, r.bestGflops, r.medianGflops, r.bestGflops / threads,
                static_cast<long long>(v.flopsPerIter),
                static_cast<long long>(r.iters), r.seconds);
  }
  std::printf("\n}\n");
  return 0;
}
