// The fused operators DJL 0.36 does not expose (scaled_dot_product_attention, group_norm, silu),
// and aten::linear, which DJL reaches only through libtorch's C++ API (torch::nn::functional::
// linear: matmul then a separate bias add for any input that is not 2-D), called on DJL's own
// tensors. A DJL array handle is a torch::Tensor* (at::Tensor); results are
// returned as new at::Tensor* that DJL wraps and later deletes. The calls go through the
// dispatcher, so with grad mode on (DJL's GradientCollector, per thread) the results join autograd.
// Built against PyPI torch 2.7.1's headers, linked to DJL's libtorch 2.7.1 by soname (build.sh).
#include <jni.h>

#include <ATen/core/Tensor.h>
#include <ATen/ops/_fused_sdp_choice_ops.h>
#include <ATen/ops/group_norm_ops.h>
#include <ATen/ops/linear_ops.h>
#include <ATen/ops/scaled_dot_product_attention_ops.h>
#include <ATen/ops/silu_ops.h>
#include <c10/util/Exception.h>

#include <exception>
#include <optional>
#include <string>

namespace {

const at::Tensor& tensor(jlong handle) { return *reinterpret_cast<at::Tensor*>(handle); }

std::optional<at::Tensor> optionalTensor(jlong handle) {
  if (handle == 0) {
    return std::nullopt;
  }
  return tensor(handle);
}

jlong release(at::Tensor&& t) { return reinterpret_cast<jlong>(new at::Tensor(std::move(t))); }

// Every C++ exception becomes DJL's EngineException, as DJL's own JNI calls do; the JVM lives on.
void throwJava(JNIEnv* env, const char* op, const std::string& what) {
  jclass cls = env->FindClass("ai/djl/engine/EngineException");
  if (cls == nullptr) {
    env->ExceptionClear();
    cls = env->FindClass("java/lang/RuntimeException");
  }
  std::string message = std::string(op) + ": " + what;
  env->ThrowNew(cls, message.c_str());
}

template <typename F>
jlong guarded(JNIEnv* env, const char* op, F&& body) {
  try {
    return body();
  } catch (const c10::Error& e) {
    throwJava(env, op, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throwJava(env, op, e.what());
  } catch (...) {
    throwJava(env, op, "unknown C++ exception");
  }
  return 0;
}

}  // namespace

extern "C" {

JNIEXPORT jlong JNICALL Java_io_concepterasure_trainer_nn_FusedOps_scaledDotProductAttention(
    JNIEnv* env, jclass, jlong q, jlong k, jlong v, jlong mask, jdouble scale) {
  return guarded(env, "scaled_dot_product_attention", [&] {
    return release(at::_ops::scaled_dot_product_attention::call(
        tensor(q), tensor(k), tensor(v), optionalTensor(mask), 0.0, false, scale, false));
  });
}

JNIEXPORT jlong JNICALL Java_io_concepterasure_trainer_nn_FusedOps_fusedBackend(
    JNIEnv* env, jclass, jlong q, jlong k, jlong v, jlong mask, jdouble scale) {
  return guarded(env, "_fused_sdp_choice", [&] {
    return static_cast<jlong>(at::_ops::_fused_sdp_choice::call(
        tensor(q), tensor(k), tensor(v), optionalTensor(mask), 0.0, false, scale, false));
  });
}

JNIEXPORT jlong JNICALL Java_io_concepterasure_trainer_nn_FusedOps_groupNorm(
    JNIEnv* env, jclass, jlong x, jlong groups, jlong weight, jlong bias, jdouble eps) {
  return guarded(env, "group_norm", [&] {
    return release(at::_ops::group_norm::call(
        tensor(x), groups, optionalTensor(weight), optionalTensor(bias), eps, true));
  });
}

// aten::linear folds a contiguous 3-D input to 2-D and runs one addmm (bias included), as
// torch.nn.functional.linear does in Python; other inputs take matmul + add as before.
JNIEXPORT jlong JNICALL Java_io_concepterasure_trainer_nn_FusedOps_linear(JNIEnv* env, jclass,
                                                                           jlong x, jlong weight,
                                                                           jlong bias) {
  return guarded(env, "linear", [&] {
    return release(at::_ops::linear::call(tensor(x), tensor(weight), optionalTensor(bias)));
  });
}

JNIEXPORT jlong JNICALL Java_io_concepterasure_trainer_nn_FusedOps_silu(JNIEnv* env, jclass,
                                                                         jlong x) {
  return guarded(env, "silu", [&] { return release(at::_ops::silu::call(tensor(x))); });
}

}  // extern "C"
