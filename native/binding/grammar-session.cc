#include "grammar-session.h"

#include <chrono>
#include <memory>
#include <new>
#include <vector>

#include "../src/grammar/matcher.h"
#include "convert.h"

namespace xlam::binding {

namespace {

class GrammarSession : public Napi::ObjectWrap<GrammarSession> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "GrammarSession",
                       {Method<0, &GrammarSession::MatchBytes>(), Method<1, &GrammarSession::Mask>(),
                        Method<2, &GrammarSession::Forced>(), Method<3, &GrammarSession::Replay>(),
                        Method<4, &GrammarSession::Stats>()});
  }

  // new GrammarSession(data: Uint8Array, offsets: Uint32Array, allowed: Uint8Array)
  explicit GrammarSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GrammarSession>(info) {
    guarded(info.Env(), "GrammarSession", [&] { Construct(info); });
  }

 private:
  using MethodFn = Napi::Value (GrammarSession::*)(const Napi::CallbackInfo&);
  static constexpr const char* kMethodNames[] = {"matchBytes", "mask", "forced", "replay", "stats"};

  // Every method runs guarded: a C++ exception in it becomes a typed JS error (convert.h).
  template <int I, MethodFn M>
  Napi::Value Guarded(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), kMethodNames[I], [&] { return (this->*M)(info); });
  }
  template <int I, MethodFn M>
  static Napi::ClassPropertyDescriptor<GrammarSession> Method() {
    return InstanceMethod(kMethodNames[I], &GrammarSession::Guarded<I, M>);
  }

  void Construct(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<uint8_t> data, allowed;
    std::vector<uint32_t> offsets;
    if (!get_token_bytes(info, 0, "new GrammarSession(data, offsets, allowed)", &data, &offsets, &allowed)) return;
    if (offsets.size() != allowed.size() + 1) {
      arg_error(env, "offsets must have one entry more than allowed").ThrowAsJavaScriptException();
      return;
    }
    Status st = ctx_.set_vocabulary(data.data(), data.size(), offsets.data(), allowed.data(), static_cast<int64_t>(allowed.size()));
    if (!st.ok()) make_error(env, st).ThrowAsJavaScriptException();
  }

  // A matcher for info[0] (a byte grammar) after the token ids of info[1] (optional).
  std::unique_ptr<GrammarMatcher> matcher(const Napi::CallbackInfo& info, bool with_prefix) {
    Napi::Env env = info.Env();
    auto g = std::make_shared<ByteGrammar>();
    if (info.Length() < 1) {
      arg_error(env, "a byte grammar is needed").ThrowAsJavaScriptException();
      return nullptr;
    }
    if (!get_grammar(env, info[0], g.get())) return nullptr;
    Status st = validate_grammar(*g);
    if (!st.ok()) {
      make_error(env, st).ThrowAsJavaScriptException();
      return nullptr;
    }
    auto m = std::make_unique<GrammarMatcher>(&ctx_, ctx_.compile(std::move(g)));
    if (with_prefix && info.Length() > 1 && !info[1].IsUndefined()) {
      std::vector<int32_t> ids;
      if (!get_ids(env, info[1], "tokens", &ids)) return nullptr;
      for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] >= ctx_.trie().n_vocab() || !m->accept(ids[i])) {
          arg_error(env, "tokens[" + std::to_string(i) + "] is not allowed by the grammar").ThrowAsJavaScriptException();
          return nullptr;
        }
    }
    return m;
  }

  // matchBytes(grammar, bytes) -> { accepted: bytes taken before the first refused one, complete, canContinue }
  Napi::Value MatchBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<uint8_t> bytes;
    if (info.Length() != 2 || !get_typed(env, info[1], napi_uint8_array, "bytes", &bytes)) {
      if (!env.IsExceptionPending()) arg_error(env, "matchBytes(grammar, bytes)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto m = matcher(info, false);
    if (!m) return env.Undefined();
    size_t n = 0;
    while (n < bytes.size() && m->accept_byte(bytes[n])) ++n;
    Napi::Object o = Napi::Object::New(env);
    o.Set("accepted", static_cast<double>(n));
    o.Set("complete", m->complete());
    o.Set("canContinue", m->can_continue());
    return o;
  }

  // mask(grammar, prefixTokens?) -> Uint8Array(n_vocab): 1 where the grammar allows the token next
  Napi::Value Mask(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto m = matcher(info, true);
    if (!m) return env.Undefined();
    std::vector<uint64_t> bits;
    m->fill_mask(&bits);
    const int64_t n = ctx_.trie().n_vocab();
    Napi::Uint8Array out = Napi::Uint8Array::New(env, static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = (bits[static_cast<size_t>(i) >> 6] >> (i & 63)) & 1;
    return out;
  }

  // forced(grammar, prefixTokens?) -> token ids the grammar forces next
  Napi::Value Forced(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto m = matcher(info, true);
    if (!m) return env.Undefined();
    std::vector<int32_t> t;
    m->forced_tokens(1 << 20, &t);
    Napi::Array a = Napi::Array::New(env, t.size());
    for (size_t i = 0; i < t.size(); ++i) a.Set(static_cast<uint32_t>(i), t[i]);
    return a;
  }

  // replay(grammar, tokens) -> Float64Array: nanoseconds of the mask computed before each token
  // (each token must be allowed by it).
  Napi::Value Replay(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<int32_t> ids;
    if (info.Length() != 2 || !get_ids(env, info[1], "tokens", &ids)) {
      if (!env.IsExceptionPending()) arg_error(env, "replay(grammar, tokens)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto m = matcher(info, false);
    if (!m) return env.Undefined();
    Napi::Float64Array out = Napi::Float64Array::New(env, ids.size());
    std::vector<uint64_t> bits;
    for (size_t i = 0; i < ids.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      m->fill_mask(&bits);
      out[i] = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
      const int32_t t = ids[i];
      if (t < 0 || t >= ctx_.trie().n_vocab() || !((bits[static_cast<size_t>(t) >> 6] >> (t & 63)) & 1) || !m->accept(t)) {
        arg_error(env, "tokens[" + std::to_string(i) + "] is not allowed by the grammar").ThrowAsJavaScriptException();
        return env.Undefined();
      }
    }
    return out;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const GrammarStats& s = ctx_.stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("masks", static_cast<double>(s.masks));
    o.Set("entriesBuilt", static_cast<double>(s.entries_built));
    o.Set("entriesShared", static_cast<double>(s.entries_shared));
    o.Set("uncertainChecked", static_cast<double>(s.uncertain_checked));
    o.Set("stateMaskHits", static_cast<double>(s.state_mask_hits));
    o.Set("cacheBytes", static_cast<double>(ctx_.cache().memory_bytes()));
    return o;
  }

  GrammarContext ctx_;
};

}  // namespace

Napi::Function define_grammar_session(Napi::Env env) { return GrammarSession::Define(env); }

}  // namespace xlam::binding
