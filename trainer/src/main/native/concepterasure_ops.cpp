// The fused operators DJL 0.36 does not expose (scaled_dot_product_attention, group_norm, silu),
// and aten::linear, which DJL reaches only through libtorch's C++ API (torch::nn::functional::
// linear: matmul then a separate bias add for any input that is not 2-D), called on DJL's own
// tensors. A DJL array handle is a torch::Tensor* (at::Tensor); results are
// returned as new at::Tensor* that DJL wraps and later deletes. The calls go through the
// dispatcher, so with grad mode on (DJL's GradientCollector, per thread) the results join autograd.
// Built against PyPI torch 2.7.1's headers, linked to DJL's libtorch 2.7.1 by soname (build.sh).
//
// Also gradient checkpointing (torch.utils.checkpoint's reentrant form): a custom autograd Function
// whose forward and backward call back into Java to run a block of layers, so the block's
// intermediates are recomputed in the backward pass instead of kept from the forward.
#include <jni.h>

#include <ATen/core/Tensor.h>
#include <ATen/ops/_fused_sdp_choice_ops.h>
#include <ATen/ops/group_norm_ops.h>
#include <ATen/ops/linear_ops.h>
#include <ATen/ops/scaled_dot_product_attention_ops.h>
#include <ATen/ops/silu_ops.h>
#include <c10/core/GradMode.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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

JavaVM* javaVm = nullptr;

// The JNIEnv of the calling thread. The autograd engine runs a CUDA graph's backward on its own
// device threads, which the JVM has never seen: those are attached (as daemons) on first use.
JNIEnv* currentEnv() {
  JNIEnv* env = nullptr;
  jint status = javaVm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8);
  if (status == JNI_EDETACHED) {
    if (javaVm->AttachCurrentThreadAsDaemon(reinterpret_cast<void**>(&env), nullptr) != JNI_OK) {
      throw std::runtime_error("gradient checkpoint: cannot attach an autograd thread to the JVM");
    }
  } else if (status != JNI_OK) {
    throw std::runtime_error("gradient checkpoint: no JNI environment on this thread");
  }
  return env;
}

// The Java body of one checkpointed call (FusedOps.Recompute), held by a global reference for as
// long as the autograd graph holds the node, and released with it.
struct JavaBody : torch::CustomClassHolder {
  jobject body;
  jmethodID call;

  JavaBody(JNIEnv* env, jobject local, jmethodID method)
      : body(env->NewGlobalRef(local)), call(method) {}

  ~JavaBody() override {
    try {
      currentEnv()->DeleteGlobalRef(body);
    } catch (...) {
      // A thread that cannot attach leaks one reference rather than terminating the JVM.
    }
  }

  // Runs the body on `inputs` (Java owns the handles it is given); returns the tensors it made.
  std::vector<at::Tensor> run(const std::vector<at::Tensor>& inputs) const {
    JNIEnv* env = currentEnv();
    if (env->PushLocalFrame(8) != 0) {
      throw std::runtime_error("gradient checkpoint: out of JNI local references");
    }
    std::vector<jlong> handles;
    handles.reserve(inputs.size());
    for (const at::Tensor& t : inputs) {
      handles.push_back(reinterpret_cast<jlong>(new at::Tensor(t)));
    }
    jlongArray in = env->NewLongArray(static_cast<jsize>(handles.size()));
    env->SetLongArrayRegion(in, 0, static_cast<jsize>(handles.size()), handles.data());
    auto out = static_cast<jlongArray>(env->CallObjectMethod(body, call, in));
    if (env->ExceptionCheck()) {
      // Java threw: its message becomes a C++ exception, which the engine (backward) or guarded()
      // (forward) turns back into a Java exception at the outer JNI boundary.
      jthrowable thrown = env->ExceptionOccurred();
      env->ExceptionClear();
      std::string message = describe(env, thrown);
      env->PopLocalFrame(nullptr);
      throw std::runtime_error("gradient checkpoint: the checkpointed block failed: " + message);
    }
    std::vector<at::Tensor> result;
    jsize n = env->GetArrayLength(out);
    std::vector<jlong> outHandles(n);
    env->GetLongArrayRegion(out, 0, n, outHandles.data());
    for (jlong h : outHandles) {
      auto* t = reinterpret_cast<at::Tensor*>(h);
      result.push_back(std::move(*t));
      delete t;
    }
    env->PopLocalFrame(nullptr);
    return result;
  }

  static std::string describe(JNIEnv* env, jthrowable thrown) {
    jclass cls = env->FindClass("java/lang/Object");
    jmethodID toString = env->GetMethodID(cls, "toString", "()Ljava/lang/String;");
    auto text = static_cast<jstring>(env->CallObjectMethod(thrown, toString));
    if (env->ExceptionCheck() || text == nullptr) {
      env->ExceptionClear();
      return "a Java exception";
    }
    const char* chars = env->GetStringUTFChars(text, nullptr);
    std::string message(chars);
    env->ReleaseStringUTFChars(text, chars);
    return message;
  }
};

// forward: runs the body without grad and keeps only its inputs. backward: runs it again with grad
// on detached copies of the inputs, then a nested (reentrant) backward through the recomputed
// block, which accumulates the parameters' gradients into their .grad as usual and yields the
// inputs' gradients. The trainable parameters are passed as inputs too, only so that the outputs
// require grad when no block input does (the first trainable block); their gradients are not
// returned here, as the nested backward has already accumulated them.
struct Checkpoint : public torch::autograd::Function<Checkpoint> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                c10::intrusive_ptr<JavaBody> body,
                                                at::TensorList inputs, at::TensorList params) {
    ctx->save_for_backward(inputs.vec());
    ctx->saved_data["body"] = c10::IValue::make_capsule(body);
    ctx->saved_data["params"] = static_cast<int64_t>(params.size());
    return body->run(inputs.vec());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto body = c10::static_intrusive_pointer_cast<JavaBody>(ctx->saved_data["body"].toCapsule());
    std::vector<at::Tensor> detached;
    for (const at::Tensor& t : ctx->get_saved_variables()) {
      at::Tensor d = t.detach();
      d.requires_grad_(t.requires_grad());
      detached.push_back(d);
    }
    std::vector<at::Tensor> outputs;
    {
      at::AutoGradMode enable(true);
      outputs = body->run(detached);
    }
    torch::autograd::variable_list roots;
    torch::autograd::variable_list rootGrads;
    for (size_t i = 0; i < outputs.size() && i < grads.size(); i++) {
      if (outputs[i].requires_grad() && grads[i].defined()) {
        roots.push_back(outputs[i]);
        rootGrads.push_back(grads[i]);
      }
    }
    if (!roots.empty()) {
      torch::autograd::backward(roots, rootGrads);
    }
    torch::autograd::variable_list result;
    result.emplace_back();  // the body
    for (const at::Tensor& d : detached) {
      result.push_back(d.requires_grad() ? d.grad() : at::Tensor());
    }
    for (int64_t i = 0; i < ctx->saved_data["params"].toInt(); i++) {
      result.emplace_back();
    }
    return result;
  }
};

std::vector<at::Tensor> tensors(JNIEnv* env, jlongArray handles) {
  jsize n = env->GetArrayLength(handles);
  std::vector<jlong> raw(n);
  env->GetLongArrayRegion(handles, 0, n, raw.data());
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (jlong h : raw) {
    out.push_back(tensor(h));
  }
  return out;
}

}  // namespace

extern "C" {

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void*) {
  javaVm = vm;
  return JNI_VERSION_1_8;
}

JNIEXPORT jboolean JNICALL Java_io_concepterasure_trainer_nn_FusedOps_gradEnabled(JNIEnv*,
                                                                                 jclass) {
  return c10::GradMode::is_enabled() ? JNI_TRUE : JNI_FALSE;
}

// A second handle on the same tensor (the storage is shared), for C++ to own after Java closes
// its own.
JNIEXPORT jlong JNICALL Java_io_concepterasure_trainer_nn_FusedOps_share(JNIEnv*, jclass,
                                                                          jlong x) {
  return reinterpret_cast<jlong>(new at::Tensor(tensor(x)));
}

// torch's zero_grad(set_to_none=True): drops the tensor's .grad, so its memory is free until the
// next backward pass allocates it again (DJL can only overwrite it with zeros).
JNIEXPORT void JNICALL Java_io_concepterasure_trainer_nn_FusedOps_clearGradient(JNIEnv* env,
                                                                                 jclass,
                                                                                 jlong x) {
  guarded(env, "clear gradient", [&] {
    tensor(x).mutable_grad().reset();
    return jlong{0};
  });
}

// One parameter's update of torch.optim.Adam (_single_tensor_adam: no weight decay, no AMSGrad,
// no capturable), in place and with its in-place fused operators (lerp_, addcmul_, addcdiv_): the
// same arithmetic and rounding as PyTorch's optimizer, and four fewer passes over each tensor than
// the same update spelled in DJL's operators. An absent gradient counts as zeros, as DJL reads it.
JNIEXPORT void JNICALL Java_io_concepterasure_trainer_nn_FusedOps_adamStep(
    JNIEnv* env, jclass, jlong param, jlong mean, jlong variance, jdouble beta1, jdouble beta2,
    jdouble stepSize, jdouble correction2Sqrt, jdouble eps) {
  guarded(env, "adam step", [&] {
    at::NoGradGuard noGrad;
    at::Tensor p = tensor(param);
    at::Tensor m = tensor(mean);
    at::Tensor v = tensor(variance);
    at::Tensor grad = p.grad().defined() ? p.grad() : at::zeros_like(p);
    m.lerp_(grad, 1 - beta1);
    v.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    at::Tensor denominator = v.sqrt().div_(correction2Sqrt).add_(eps);
    p.addcdiv_(m, denominator, -stepSize);
    return jlong{0};
  });
}

JNIEXPORT jlongArray JNICALL Java_io_concepterasure_trainer_nn_FusedOps_checkpoint(
    JNIEnv* env, jclass, jobject body, jlongArray inputs, jlongArray params) {
  jlongArray result = nullptr;
  guarded(env, "gradient checkpoint", [&] {
    jclass cls = env->GetObjectClass(body);
    jmethodID call = env->GetMethodID(cls, "call", "([J)[J");
    if (call == nullptr) {
      env->ExceptionClear();
      throw std::runtime_error("the body has no method long[] call(long[])");
    }
    auto holder = c10::make_intrusive<JavaBody>(env, body, call);
    std::vector<at::Tensor> in = tensors(env, inputs);
    std::vector<at::Tensor> ps = tensors(env, params);
    torch::autograd::variable_list out =
        Checkpoint::apply(holder, at::TensorList(in), at::TensorList(ps));
    std::vector<jlong> handles;
    for (at::Tensor& t : out) {
      handles.push_back(release(std::move(t)));
    }
    result = env->NewLongArray(static_cast<jsize>(handles.size()));
    env->SetLongArrayRegion(result, 0, static_cast<jsize>(handles.size()), handles.data());
    return jlong{0};
  });
  return result;
}

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

// Tensor.contiguous(): a row-major copy of a permuted view (the same tensor when it already is one).
// DJL 0.36 has no such call; its clone keeps a permuted tensor's strides.
JNIEXPORT jlong JNICALL Java_io_concepterasure_trainer_nn_FusedOps_contiguous(JNIEnv* env, jclass,
                                                                               jlong x) {
  return guarded(env, "contiguous", [&] { return release(tensor(x).contiguous()); });
}

JNIEXPORT jlong JNICALL Java_io_concepterasure_trainer_nn_FusedOps_silu(JNIEnv* env, jclass,
                                                                         jlong x) {
  return guarded(env, "silu", [&] { return release(at::_ops::silu::call(tensor(x))); });
}

}  // extern "C"
