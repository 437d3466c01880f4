//===- FakeCUDA.cpp - A stand-in libcuda.so.1 for testing the runner ------===//
//
// Implements the driver entry points tcl-cuda-runner loads, on host memory,
// so that its process protocol and error handling are tested on machines
// without a GPU. Nothing is executed: a launch does what the kernel's name
// asks for.
//   *illegal*  the next synchronization fails with CUDA_ERROR_ILLEGAL_ADDRESS
//   *crash*    the process dies of SIGSEGV
//   *hang*     the launch never returns
//   *wrong*    writes 42 into the first element of its second buffer
//              operand of rank 1 (parameter 5, after the first descriptor)
//   otherwise  does nothing
// A module whose PTX contains "jit_error" fails to load with
// CUDA_ERROR_INVALID_PTX. With TCL_FAKE_CUDA_NO_DEVICE set, cuInit fails
// with CUDA_ERROR_NO_DEVICE.
//
//===----------------------------------------------------------------------===//

#include <cuda.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {
CUresult pending = CUDA_SUCCESS;

CUresult takePending() {
  CUresult r = pending;
  pending = CUDA_SUCCESS;
  return r;
}

struct Event {
  std::chrono::steady_clock::time_point at;
};
} // namespace

CUresult cuInit(unsigned int) {
  return std::getenv("TCL_FAKE_CUDA_NO_DEVICE") ? CUDA_ERROR_NO_DEVICE
                                                : CUDA_SUCCESS;
}

CUresult cuGetErrorName(CUresult error, const char **name) {
  switch (error) {
  case CUDA_SUCCESS:
    *name = "CUDA_SUCCESS";
    return CUDA_SUCCESS;
  case CUDA_ERROR_ILLEGAL_ADDRESS:
    *name = "CUDA_ERROR_ILLEGAL_ADDRESS";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_PTX:
    *name = "CUDA_ERROR_INVALID_PTX";
    return CUDA_SUCCESS;
  case CUDA_ERROR_NO_DEVICE:
    *name = "CUDA_ERROR_NO_DEVICE";
    return CUDA_SUCCESS;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  if (ordinal != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  *device = 0;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int length, CUdevice) {
  std::strncpy(name, "Fake GPU", static_cast<size_t>(length));
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice) {
  static int dummy;
  *context = reinterpret_cast<CUcontext>(&dummy);
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext) { return CUDA_SUCCESS; }

CUresult cuCtxSynchronize() { return takePending(); }

CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
                            unsigned int numOptions, CUjit_option *options,
                            void **values) {
  const char *ptx = static_cast<const char *>(image);
  if (std::strstr(ptx, "jit_error")) {
    for (unsigned i = 0; i < numOptions; ++i)
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
        std::strcpy(static_cast<char *>(values[i]), "fake JIT error log");
    return CUDA_ERROR_INVALID_PTX;
  }
  *module = reinterpret_cast<CUmodule>(strdup(ptx));
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule, const char *name) {
  *function = reinterpret_cast<CUfunction>(strdup(name));
  return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule module) {
  std::free(module);
  return CUDA_SUCCESS;
}

CUresult cuMemAlloc(CUdeviceptr *pointer, size_t bytes) {
  *pointer = reinterpret_cast<CUdeviceptr>(std::malloc(bytes));
  return *pointer ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult cuMemFree(CUdeviceptr pointer) {
  std::free(reinterpret_cast<void *>(pointer));
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t bytes) {
  std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t bytes) {
  std::memcpy(dst, reinterpret_cast<const void *>(src), bytes);
  return takePending();
}

CUresult cuMemsetD8(CUdeviceptr dst, unsigned char value, size_t bytes) {
  std::memset(reinterpret_cast<void *>(dst), value, bytes);
  return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction function, unsigned, unsigned, unsigned,
                        unsigned, unsigned, unsigned, unsigned, CUstream,
                        void **params, void **) {
  std::string name = reinterpret_cast<const char *>(function);
  if (name.find("illegal") != std::string::npos)
    pending = CUDA_ERROR_ILLEGAL_ADDRESS;
  else if (name.find("crash") != std::string::npos)
    std::raise(SIGSEGV);
  else if (name.find("hang") != std::string::npos)
    for (;;)
      std::this_thread::sleep_for(std::chrono::seconds(1));
  else if (name.find("wrong") != std::string::npos)
    *reinterpret_cast<float *>(*static_cast<uint64_t *>(params[5])) = 42;
  return CUDA_SUCCESS;
}

CUresult cuEventCreate(CUevent *event, unsigned int) {
  *event = reinterpret_cast<CUevent>(new Event());
  return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent event, CUstream) {
  reinterpret_cast<Event *>(event)->at = std::chrono::steady_clock::now();
  return CUDA_SUCCESS;
}

CUresult cuEventSynchronize(CUevent) { return takePending(); }

CUresult cuEventElapsedTime(float *ms, CUevent start, CUevent end) {
  *ms = std::chrono::duration<float, std::milli>(
            reinterpret_cast<Event *>(end)->at -
            reinterpret_cast<Event *>(start)->at)
            .count();
  return CUDA_SUCCESS;
}

CUresult cuEventDestroy(CUevent event) {
  delete reinterpret_cast<Event *>(event);
  return CUDA_SUCCESS;
}
