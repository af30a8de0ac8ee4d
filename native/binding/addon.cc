// The N-API binding: the only file that includes napi.h. It copies each request into plain C++
// structs on the JS thread and hands it to the engine thread (submit; events come back through
// listen), loads models on a libuv worker thread (AsyncWorker), and turns every xlam::Status
// into a JS Error with `code`, `file` and `tensor` properties, which lib/native.ts rethrows as
// typed error classes.
#include <napi.h>

#include <cmath>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "../cpu/cpu-register.h"
#include "../src/backend-registry.h"
#include "../src/engine.h"
#include "backend-select.h"
#include "convert.h"
#include "event-channel.h"
#include "grammar-session.h"

namespace {

using xlam::Status;
using xlam::binding::arg_error;
using xlam::binding::get_int;
using xlam::binding::make_error;

// Runs a job off the event loop; converts C++ exceptions (allocation failure) into a Status.
template <typename Job>
Status run_guarded(Job&& job) {
  try {
    return job();
  } catch (const std::bad_alloc&) {
    return Status::Error(xlam::Code::kOutOfMemory, "out of memory");
  } catch (const std::exception& e) {
    return Status::Error(xlam::Code::kInternal, e.what());
  } catch (...) {
    return Status::Error(xlam::Code::kInternal, "unknown native exception");
  }
}

class NativeEngine : public Napi::ObjectWrap<NativeEngine> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeEngine",
                       {Method<0, &NativeEngine::Listen>(), Method<1, &NativeEngine::Submit>(),
                        Method<2, &NativeEngine::Cancel>(), Method<3, &NativeEngine::SetTokenBytes>(),
                        Method<4, &NativeEngine::Pause>(), Method<5, &NativeEngine::Resume>(),
                        Method<6, &NativeEngine::Stats>(), Method<7, &NativeEngine::Info>(),
                        Method<8, &NativeEngine::Close>()});
  }

  ~NativeEngine() override {
    if (engine_) engine_->close();  // joins the engine thread: no more deliveries
    if (channel_) channel_->release();
  }

  explicit NativeEngine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeEngine>(info) {
    // Only OnOK below passes an External (JS cannot make one), holding a shared_ptr<Engine>.
    if (info.Length() != 1 || !info[0].IsExternal()) {
      arg_error(info.Env(), "NativeEngine cannot be constructed from JS; use loadEngine()").ThrowAsJavaScriptException();
      return;
    }
    auto* holder = info[0].As<Napi::External<std::shared_ptr<xlam::Engine>>>().Data();
    engine_ = *holder;
  }

 private:
  using MethodFn = Napi::Value (NativeEngine::*)(const Napi::CallbackInfo&);
  static constexpr const char* kMethodNames[] = {"listen", "submit", "cancel", "setTokenBytes", "pause",
                                                  "resume", "stats", "info", "close"};

  // Every method runs guarded: a C++ exception in it becomes a typed JS error (convert.h).
  template <int I, MethodFn M>
  Napi::Value Guarded(const Napi::CallbackInfo& info) {
    return xlam::binding::guarded(info.Env(), kMethodNames[I], [&] { return (this->*M)(info); });
  }
  template <int I, MethodFn M>
  static Napi::ClassPropertyDescriptor<NativeEngine> Method() {
    return InstanceMethod(kMethodNames[I], &NativeEngine::Guarded<I, M>);
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open(env)) return env.Undefined();
    xlam::EngineInfo i = engine_->info();
    const xlam::Hparams& hp = i.hparams;
    Napi::Object o = Napi::Object::New(env);
    o.Set("backend", i.backend);
    o.Set("kernels", i.kernels);
    if (!i.backend_note.empty()) o.Set("backendNote", i.backend_note);
    o.Set("modelType", hp.model_type);
    o.Set("vocabSize", static_cast<double>(hp.n_vocab));
    o.Set("hiddenSize", static_cast<double>(hp.n_embd));
    o.Set("layers", static_cast<double>(hp.n_layer));
    o.Set("heads", static_cast<double>(hp.n_head));
    o.Set("kvHeads", static_cast<double>(hp.n_head_kv));
    o.Set("headDim", static_cast<double>(hp.head_dim));
    o.Set("experts", static_cast<double>(hp.n_expert));
    o.Set("contextLength", static_cast<double>(hp.n_ctx_train));
    o.Set("kvCacheTokens", static_cast<double>(i.kv_cache_tokens));
    o.Set("blockSize", static_cast<double>(i.block_size));
    o.Set("weightTensors", static_cast<double>(i.weights.n_tensors));
    o.Set("weightTensorsMapped", static_cast<double>(i.weights.n_zero_copy));
    o.Set("weightBytes", static_cast<double>(i.weights.bytes));
    Napi::Array eos = Napi::Array::New(env, hp.eos_ids.size());
    for (size_t k = 0; k < hp.eos_ids.size(); ++k) eos.Set(static_cast<uint32_t>(k), hp.eos_ids[k]);
    o.Set("eosTokenIds", eos);
    o.Set("bosTokenId", hp.bos_id);
    return o;
  }

  // Throws ENGINE_CLOSED when closed; returns false then.
  bool open(Napi::Env env) {
    if (engine_) return true;
    make_error(env, Status::Error(xlam::Code::kEngineClosed, "the engine is closed")).ThrowAsJavaScriptException();
    return false;
  }

  // listen(fn): fn(events[]) receives every event, in batches, on the JS thread.
  Napi::Value Listen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open(env)) return env.Undefined();
    if (info.Length() != 1 || !info[0].IsFunction()) {
      arg_error(env, "listen(fn) needs a function").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (channel_) {
      arg_error(env, "listen() may be called once").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    // At env teardown the channel stops the engine thread before its thread-safe function goes.
    auto stop = [weak = std::weak_ptr<xlam::Engine>(engine_)] {
      if (auto engine = weak.lock()) engine->close();
    };
    channel_ = std::make_unique<xlam::binding::EventChannel>(env, info[0].As<Napi::Function>(), stop);
    engine_->set_step_hook(channel_->hook());
    return env.Undefined();
  }

  // submit(request) -> id; validation errors throw synchronously with a code.
  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open(env)) return env.Undefined();
    if (!channel_) {
      arg_error(env, "call listen() before submit()").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() != 1 || !info[0].IsObject()) {
      arg_error(env, "submit(request) needs a request object").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    xlam::RequestParams params;
    if (!xlam::binding::get_request(env, info[0].As<Napi::Object>(), &params)) return env.Undefined();
    uint64_t id = 0;
    Status st = engine_->submit(std::move(params), channel_->handler(), &id);
    if (st.ok()) channel_->track(env);
    if (!st.ok()) {
      make_error(env, st).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(id));
  }

  // setTokenBytes(data: Uint8Array, offsets: Uint32Array, allowed: Uint8Array): the vocabulary
  // for grammar requests (Engine::set_token_bytes); once per engine.
  Napi::Value SetTokenBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open(env)) return env.Undefined();
    std::vector<uint8_t> data, allowed;
    std::vector<uint32_t> offsets;
    if (!xlam::binding::get_token_bytes(info, 0, "setTokenBytes(data, offsets, allowed)", &data, &offsets, &allowed))
      return env.Undefined();
    Status st = engine_->set_token_bytes(std::move(data), std::move(offsets), std::move(allowed));
    if (!st.ok()) make_error(env, st).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  bool request_id(const Napi::CallbackInfo& info, uint64_t* id) {
    const double d = info.Length() == 1 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && d <= 9007199254740991.0) || d != std::floor(d)) {  // NaN, negatives, fractions: no request's id
      arg_error(info.Env(), "expected a request id").ThrowAsJavaScriptException();
      return false;
    }
    *id = static_cast<uint64_t>(d);
    return true;
  }

  // cancel / pause / resume(id): an id no request has (any more) is ignored; after close, ENGINE_CLOSED.
  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    uint64_t id;
    if (open(info.Env()) && request_id(info, &id)) engine_->cancel(id);
    return info.Env().Undefined();
  }
  Napi::Value Pause(const Napi::CallbackInfo& info) {
    uint64_t id;
    if (open(info.Env()) && request_id(info, &id)) engine_->set_paused(id, true);
    return info.Env().Undefined();
  }
  Napi::Value Resume(const Napi::CallbackInfo& info) {
    uint64_t id;
    if (open(info.Env()) && request_id(info, &id)) engine_->set_paused(id, false);
    return info.Env().Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open(env)) return env.Undefined();
    const xlam::SchedulerStats s = engine_->stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("running", static_cast<double>(s.running));
    o.Set("waiting", static_cast<double>(s.waiting));
    o.Set("kvBlocksTotal", static_cast<double>(s.kv_blocks_total));
    o.Set("kvBlocksUsed", static_cast<double>(s.kv_blocks_used));
    o.Set("kvBlocksCached", static_cast<double>(s.kv_blocks_cached));
    o.Set("prefixCacheHitTokens", static_cast<double>(s.prefix_cache_hit_tokens));
    o.Set("promptTokensComputed", static_cast<double>(s.prompt_tokens_computed));
    o.Set("generatedTokens", static_cast<double>(s.generated_tokens));
    o.Set("steps", static_cast<double>(s.steps));
    o.Set("preemptions", static_cast<double>(s.preemptions));
    o.Set("forwardMs", static_cast<double>(s.forward_ns) / 1e6);
    o.Set("sampleMs", static_cast<double>(s.sample_ns) / 1e6);
    o.Set("grammarMasks", static_cast<double>(s.grammar_masks));
    o.Set("grammarMaskMs", static_cast<double>(s.grammar_mask_ns) / 1e6);
    o.Set("grammarEntriesBuilt", static_cast<double>(s.grammar_entries_built));
    o.Set("grammarEntriesShared", static_cast<double>(s.grammar_entries_shared));
    o.Set("grammarForcedTokens", static_cast<double>(s.grammar_forced_tokens));
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    // Unfinished requests end with ENGINE_CLOSED (delivered now, before close returns); running
    // jobs keep their own reference, and the memory goes when the last of them returns.
    if (engine_) engine_->close();
    if (channel_) {
      channel_->drain(info.Env());
      channel_->release();
    }
    engine_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<xlam::Engine> engine_;
  std::unique_ptr<xlam::binding::EventChannel> channel_;
};

struct AddonData {
  Napi::FunctionReference engine_ctor;
};

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::string dir, xlam::EngineOptions options)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), dir_(std::move(dir)),
        options_(std::move(options)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    status_ = run_guarded([&] {
      std::unique_ptr<xlam::Backend> backend;
      xlam::BackendOptions bo;
      bo.threads = options_.threads;
      bo.priority = options_.compute_priority;
      XLAM_TRY(xlam::binding::create_selected_backend(options_.backend, bo, &backend, &options_.backend_note));
      options_.backend = backend->name();
      std::unique_ptr<xlam::Engine> engine;
      XLAM_TRY(xlam::Engine::load(dir_, options_, std::move(backend), &engine));
      engine_ = std::shared_ptr<xlam::Engine>(std::move(engine));
      return Status::Ok();
    });
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!status_.ok()) {
      deferred_.Reject(make_error(env, status_).Value());
      return;
    }
    AddonData* data = env.GetInstanceData<AddonData>();
    auto holder = engine_;
    Napi::Object obj = data->engine_ctor.New({Napi::External<std::shared_ptr<xlam::Engine>>::New(env, &holder)});
    deferred_.Resolve(obj);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string dir_;
  xlam::EngineOptions options_;
  std::shared_ptr<xlam::Engine> engine_;
  Status status_;
};

// loadEngine(dir: string, options?: {backend?, threads?, blockSize?, kvCacheTokens?, maxBatchTokens?})
Napi::Value DoLoadEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    arg_error(env, "loadEngine(dir, options) needs a folder path string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  if (dir.empty() || dir.find('\0') != std::string::npos) {  // a NUL would cut the path short
    arg_error(env, "loadEngine(dir): the path is empty or contains a NUL character").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  xlam::EngineOptions options;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsObject()) {
      arg_error(env, "options must be an object").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Value backend = o.Get("backend");
    if (!backend.IsUndefined()) {
      if (!backend.IsString()) {
        arg_error(env, "backend must be a string").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      options.backend = backend.As<Napi::String>().Utf8Value();
    }
    int64_t v = 0;
    if (!get_int(env, o, "threads", 0, 1024, &v)) return env.Undefined();
    options.threads = static_cast<int>(v);
    v = options.block_size;
    if (!get_int(env, o, "blockSize", 1, 1024, &v)) return env.Undefined();
    options.block_size = v;
    v = 0;
    if (!get_int(env, o, "kvCacheTokens", 0, int64_t{1} << 31, &v)) return env.Undefined();
    options.kv_cache_tokens = v;
    v = options.max_batch_tokens;
    if (!get_int(env, o, "maxBatchTokens", 1, 1 << 20, &v)) return env.Undefined();
    options.max_batch_tokens = v;
    Napi::Value priority = o.Get("computePriority");
    if (!priority.IsUndefined()) {
      const std::string p = priority.IsString() ? priority.As<Napi::String>().Utf8Value() : "";
      if (p == "idle") options.compute_priority = xlam::ComputePriority::kIdle;
      else if (p == "low") options.compute_priority = xlam::ComputePriority::kLow;
      else if (p == "normal") options.compute_priority = xlam::ComputePriority::kNormal;
      else {
        arg_error(env, "computePriority must be 'idle', 'low' or 'normal'").ThrowAsJavaScriptException();
        return env.Undefined();
      }
    }
    v = options.max_sequences;
    if (!get_int(env, o, "maxSequences", 1, 4096, &v)) return env.Undefined();
    options.max_sequences = v;
  }
  auto* worker = new LoadWorker(env, std::move(dir), std::move(options));
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

Napi::Value LoadEngine(const Napi::CallbackInfo& info) {
  return xlam::binding::guarded(info.Env(), "loadEngine", [&] { return DoLoadEngine(info); });
}

Napi::Value BackendNames(const Napi::CallbackInfo& info) {
  return xlam::binding::guarded(info.Env(), "backendNames", [&]() -> Napi::Value {
    xlam::binding::ensure_library_backends();
    std::vector<std::string> names = xlam::backend_names();
    Napi::Array a = Napi::Array::New(info.Env(), names.size());
    for (size_t i = 0; i < names.size(); ++i) a.Set(static_cast<uint32_t>(i), names[i]);
    return a;
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  xlam::cpu::register_cpu_backends();
  auto* data = new AddonData();
  data->engine_ctor = Napi::Persistent(NativeEngine::Define(env));
  env.SetInstanceData(data);
  exports.Set("loadEngine", Napi::Function::New(env, LoadEngine));
  exports.Set("backendNames", Napi::Function::New(env, BackendNames));
  exports.Set("GrammarSession", xlam::binding::define_grammar_session(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(xlam, Init)
