//===- TargetTest.cpp - Target parsing and platform fingerprints ----------===//

#include "tcl/Target/Target.h"

#include "gtest/gtest.h"

#include <tuple>
#include <utility>

using namespace tcl;

TEST(TargetTest, ParsesIsaAndThreads) {
  llvm::Expected<Target> t = Target::parse("cpu:sse4.2,threads=1");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->isa, ISA::SSE42);
  EXPECT_EQ(t->threads, 1u);
  EXPECT_EQ(t->vectorWidthF32, 4u);
  EXPECT_EQ(t->cpu, "nehalem");
  EXPECT_EQ(t->str(), "cpu:sse4.2,threads=1");
}

TEST(TargetTest, BindIsAnOptionOfItsOwnPlatform) {
  llvm::Expected<Target> t = Target::parse("cpu:sse4.2,bind,threads=1");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  EXPECT_TRUE(t->bindThreads);
  EXPECT_EQ(t->threads, 1u);
  EXPECT_EQ(t->str(), "cpu:sse4.2,threads=1,bind");
  llvm::Expected<Target> again = Target::parse(t->str());
  ASSERT_TRUE(static_cast<bool>(again)) << llvm::toString(again.takeError());
  EXPECT_TRUE(again->bindThreads);
  Platform p = Platform::host(*t);
  EXPECT_EQ(p.id(), "cpu:sse4.2,threads=1,bind@" + p.cpuModel);
  EXPECT_EQ(p.toJSON().getAsObject()->getBoolean("bind_threads"), true);

  llvm::Expected<Target> unbound = Target::parse("cpu:sse4.2,threads=1");
  ASSERT_TRUE(static_cast<bool>(unbound));
  EXPECT_FALSE(unbound->bindThreads);
  EXPECT_NE(Platform::host(*unbound).id(), p.id());
  EXPECT_FALSE(
      Platform::host(*unbound).toJSON().getAsObject()->get("bind_threads"));

  for (const char *bad : {"cpu,bind=1", "cpu:avx2,pin", "cuda:sm_90,bind"}) {
    llvm::Expected<Target> b = Target::parse(bad);
    ASSERT_FALSE(static_cast<bool>(b)) << bad;
    std::string msg = llvm::toString(b.takeError());
    EXPECT_NE(msg.find("unknown option"), std::string::npos) << msg;
  }
}

TEST(TargetTest, HostUsesAllCoresAndHostCpu) {
  llvm::Expected<Target> t = Target::parse("cpu");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->isa, ISA::Host);
  EXPECT_EQ(t->threads, hostCoreCount());
  EXPECT_FALSE(t->cpu.empty());
  EXPECT_FALSE(t->features.empty());
}

TEST(TargetTest, RejectsBadSpellings) {
  for (const char *bad : {"gpu", "cpu:avx3", "cpu,threads=0", "cpu,threads=x",
                          "cpu,cores=2"}) {
    llvm::Expected<Target> t = Target::parse(bad);
    ASSERT_FALSE(static_cast<bool>(t)) << bad;
    std::string msg = llvm::toString(t.takeError());
    EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  }
}

TEST(TargetTest, PlatformFingerprintNamesMachine) {
  llvm::Expected<Target> t = Target::parse("cpu:avx2,threads=2");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  Platform p = Platform::host(*t);
  EXPECT_FALSE(p.cpuModel.empty());
  EXPECT_EQ(p.id(), "cpu:avx2,threads=2@" + p.cpuModel);
  llvm::json::Object *obj = p.toJSON().getAsObject();
  ASSERT_NE(obj, nullptr);
  EXPECT_EQ(obj->getInteger("threads"), 2);
  EXPECT_EQ(obj->getString("isa"), "avx2");
}

TEST(TargetTest, ParsesCudaArchitectures) {
  for (auto [spelling, sm, optIn] :
       {std::tuple{"cuda:sm_80", 80u, 163 * 1024},
        std::tuple{"cuda:sm_90", 90u, 227 * 1024}}) {
    llvm::Expected<Target> t = Target::parse(spelling);
    ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
    EXPECT_TRUE(t->isGPU());
    EXPECT_EQ(t->device, DeviceKind::CUDA);
    EXPECT_EQ(t->smVersion, sm);
    EXPECT_EQ(t->str(), spelling);
    EXPECT_EQ("cuda:" + t->cpu, spelling);
    EXPECT_EQ(t->features, "+ptx80");
    EXPECT_EQ(t->threads, 1u);
    EXPECT_EQ(t->gpu.maxThreadsPerBlock, 1024);
    EXPECT_EQ(t->gpu.sharedMemoryPerBlock, 48 * 1024);
    EXPECT_EQ(t->gpu.sharedMemoryPerBlockOptIn, optIn);
    EXPECT_EQ(t->gpu.registersPerSM, 65536);
    EXPECT_EQ(t->gpu.warpSize, 32);
  }
}

TEST(TargetTest, CpuTargetsAreNotGpus) {
  llvm::Expected<Target> t = Target::parse("cpu:sse4.2,threads=1");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  EXPECT_FALSE(t->isGPU());
  EXPECT_EQ(t->smVersion, 0u);
}

TEST(TargetTest, RejectsBadCudaSpellingsNamingThePart) {
  for (auto [bad, part] :
       {std::pair{"cuda:sm_99", "unknown GPU architecture 'sm_99' (expected "
                                "sm_80 or sm_90)"},
        std::pair{"cuda", "missing GPU architecture"},
        std::pair{"cuda:sm_90,threads=2", "unknown option 'threads=2'"}}) {
    llvm::Expected<Target> t = Target::parse(bad);
    ASSERT_FALSE(static_cast<bool>(t)) << bad;
    std::string msg = llvm::toString(t.takeError());
    EXPECT_NE(msg.find("invalid target '" + std::string(bad) + "'"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

TEST(TargetTest, GpuPlatformNamesTheGpu) {
  llvm::Expected<Target> t = Target::parse("cuda:sm_90");
  ASSERT_TRUE(static_cast<bool>(t)) << llvm::toString(t.takeError());
  Platform p = Platform::host(*t);
  // Without an NVIDIA driver (CI) the name is "unknown GPU".
  EXPECT_FALSE(p.gpuModel.empty());
  EXPECT_EQ(p.id(), "cuda:sm_90@" + p.gpuModel);
  llvm::json::Value json = p.toJSON();
  llvm::json::Object *obj = json.getAsObject();
  ASSERT_NE(obj, nullptr);
  EXPECT_EQ(obj->getString("device"), "cuda");
  EXPECT_EQ(obj->getInteger("sm"), 90);
  EXPECT_EQ(obj->getString("gpu_model"), p.gpuModel);
  // CPU platforms keep their fields unchanged.
  llvm::Expected<Target> cpu = Target::parse("cpu:sse4.2,threads=1");
  ASSERT_TRUE(static_cast<bool>(cpu)) << llvm::toString(cpu.takeError());
  llvm::json::Value cpuJson = Platform::host(*cpu).toJSON();
  llvm::json::Object *cpuObj = cpuJson.getAsObject();
  ASSERT_NE(cpuObj, nullptr);
  EXPECT_FALSE(cpuObj->get("device"));
  EXPECT_FALSE(cpuObj->get("gpu_model"));
}
