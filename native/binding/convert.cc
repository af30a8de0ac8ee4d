#include "convert.h"

#include <algorithm>
#include <cmath>

namespace xlam::binding {

Napi::Error make_error(Napi::Env env, const Status& st) {
  Napi::Error err = Napi::Error::New(env, st.message);
  err.Set("code", Napi::String::New(env, code_name(st.code)));
  if (!st.file.empty()) err.Set("file", Napi::String::New(env, st.file));
  if (!st.tensor.empty()) err.Set("tensor", Napi::String::New(env, st.tensor));
  return err;
}

Napi::Error arg_error(Napi::Env env, const std::string& message) {
  Napi::TypeError err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, "INVALID_ARGUMENT"));
  return err;
}

bool get_int(Napi::Env env, const Napi::Object& o, const char* key, int64_t lo, int64_t hi, int64_t* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || d != std::floor(d)) {
    arg_error(env, std::string(key) + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi))
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool get_number(Napi::Env env, const Napi::Object& o, const char* key, double* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return true;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d)) {
    arg_error(env, std::string(key) + " must be a finite number").ThrowAsJavaScriptException();
    return false;
  }
  *out = d;
  return true;
}

bool get_ids(Napi::Env env, Napi::Value v, const char* what, std::vector<int32_t>* out) {
  const bool typed = v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array;
  if (!typed && !v.IsArray()) {
    arg_error(env, std::string(what) + " must be an array of token ids").ThrowAsJavaScriptException();
    return false;
  }
  const size_t length = typed ? v.As<Napi::Int32Array>().ElementLength() : v.As<Napi::Array>().Length();
  if (length > kMaxIds) {
    arg_error(env, std::string(what) + " has " + std::to_string(length) + " ids, more than " + std::to_string(kMaxIds))
        .ThrowAsJavaScriptException();
    return false;
  }
  if (typed) {
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    out->assign(a.Data(), a.Data() + a.ElementLength());
    return true;
  }
  Napi::Array a = v.As<Napi::Array>();
  out->clear();
  out->reserve(std::min<size_t>(length, 4096));  // grows with the ids actually read (holes end it)
  for (uint32_t i = 0; i < length; ++i) {
    Napi::Value e = a.Get(i);
    double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && d <= 2147483647.0) || d != std::floor(d)) {
      arg_error(env, std::string(what) + "[" + std::to_string(i) + "] is not a token id").ThrowAsJavaScriptException();
      return false;
    }
    out->push_back(static_cast<int32_t>(d));
  }
  return true;
}

bool get_token_bytes(const Napi::CallbackInfo& info, size_t first, const char* usage, std::vector<uint8_t>* data,
                     std::vector<uint32_t>* offsets, std::vector<uint8_t>* allowed) {
  Napi::Env env = info.Env();
  if (info.Length() != first + 3 || !get_typed(env, info[first], napi_uint8_array, "data", data) ||
      !get_typed(env, info[first + 1], napi_uint32_array, "offsets", offsets) ||
      !get_typed(env, info[first + 2], napi_uint8_array, "allowed", allowed)) {
    if (!env.IsExceptionPending()) arg_error(env, std::string(usage) + " takes three typed arrays").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

bool get_grammar(Napi::Env env, Napi::Value v, ByteGrammar* g) {
  if (!v.IsObject()) {
    arg_error(env, "grammar must be a byte grammar object").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Object o = v.As<Napi::Object>();
  std::vector<uint32_t> words;
  if (!get_typed(env, o.Get("kind"), napi_uint8_array, "grammar.kind", &g->kind) ||
      !get_typed(env, o.Get("arg"), napi_int32_array, "grammar.arg", &g->arg) ||
      !get_typed(env, o.Get("sets"), napi_uint32_array, "grammar.sets", &words) ||
      !get_typed(env, o.Get("ruleAlts"), napi_int32_array, "grammar.ruleAlts", &g->rule_alts) ||
      !get_typed(env, o.Get("altStart"), napi_int32_array, "grammar.altStart", &g->alt_start))
    return false;
  if (words.size() % 8 != 0) {
    arg_error(env, "grammar.sets must hold 8 words per set").ThrowAsJavaScriptException();
    return false;
  }
  g->sets.resize(words.size() / 8);
  for (size_t i = 0; i < words.size(); ++i) g->sets[i / 8][i % 8] = words[i];
  int64_t root = -1;
  if (!get_int(env, o, "root", 0, int64_t{1} << 30, &root)) return false;
  if (root < 0) {
    arg_error(env, "grammar.root must be a rule index").ThrowAsJavaScriptException();
    return false;
  }
  g->root = static_cast<int32_t>(root);
  return true;
}

bool get_request(Napi::Env env, const Napi::Object& o, RequestParams* p) {
  if (!get_ids(env, o.Get("promptIds"), "promptIds", &p->prompt)) return false;
  int64_t v = p->max_tokens;
  if (!get_int(env, o, "maxTokens", 1, int64_t{1} << 24, &v)) return false;
  p->max_tokens = v;
  v = 0;
  if (!get_int(env, o, "topLogprobs", 0, 100, &v)) return false;
  p->top_logprobs = static_cast<int32_t>(v);
  v = 0;
  if (!get_int(env, o, "topK", 0, (int64_t{1} << 31) - 1, &v)) return false;  // an int32
  p->sampling.top_k = static_cast<int32_t>(v);
  double seed = 0;
  if (!get_number(env, o, "seed", &seed)) return false;
  if (seed < 0 || seed > 9007199254740991.0 || seed != std::floor(seed)) {
    arg_error(env, "seed must be an integer in 0..2^53-1").ThrowAsJavaScriptException();
    return false;
  }
  p->sampling.seed = static_cast<uint64_t>(seed);
  struct {
    const char* key;
    float* field;
  } floats[] = {{"temperature", &p->sampling.temperature},
                {"topP", &p->sampling.top_p},
                {"minP", &p->sampling.min_p},
                {"repetitionPenalty", &p->sampling.repetition_penalty},
                {"presencePenalty", &p->sampling.presence_penalty},
                {"frequencyPenalty", &p->sampling.frequency_penalty}};
  for (auto& f : floats) {
    double d = *f.field;
    if (!get_number(env, o, f.key, &d)) return false;
    *f.field = static_cast<float>(d);
  }
  Napi::Value grammar = o.Get("grammar");
  if (!grammar.IsUndefined()) {
    auto g = std::make_shared<ByteGrammar>();
    if (!get_grammar(env, grammar, g.get())) return false;
    p->grammar = std::move(g);
  }
  Napi::Value stop = o.Get("stopIds");
  if (!stop.IsUndefined() && !get_ids(env, stop, "stopIds", &p->stop_ids)) return false;
  Napi::Value bias = o.Get("logitBias");
  if (!bias.IsUndefined()) {
    if (!bias.IsArray()) {
      arg_error(env, "logitBias must be an array of [tokenId, bias] pairs").ThrowAsJavaScriptException();
      return false;
    }
    Napi::Array a = bias.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Value pair = a.Get(i);
      std::vector<int32_t> id;
      Napi::Value b = pair.IsArray() ? pair.As<Napi::Array>().Get(1u) : Napi::Value();
      if (!pair.IsArray() || pair.As<Napi::Array>().Length() != 2 || !b.IsNumber()) {
        arg_error(env, "logitBias[" + std::to_string(i) + "] must be [tokenId, bias]").ThrowAsJavaScriptException();
        return false;
      }
      Napi::Array one = Napi::Array::New(env, 1);
      one.Set(0u, pair.As<Napi::Array>().Get(0u));
      if (!get_ids(env, one, "logitBias token", &id)) return false;
      p->sampling.logit_bias.emplace_back(id[0], static_cast<float>(b.As<Napi::Number>().DoubleValue()));
    }
  }
  return true;
}

Napi::Array top_logprobs_to_js(Napi::Env env, const std::vector<std::pair<int32_t, float>>& pairs) {
  Napi::Array out = Napi::Array::New(env, pairs.size());
  for (size_t j = 0; j < pairs.size(); ++j) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, pairs[j].first);
    pair.Set(1u, pairs[j].second);
    out.Set(static_cast<uint32_t>(j), pair);
  }
  return out;
}

Napi::Object event_to_js(Napi::Env env, const RequestEvent& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", static_cast<double>(e.id));
  o.Set("token", e.token);
  if (e.has_top_logprobs) o.Set("topLogprobs", top_logprobs_to_js(env, e.top_logprobs));
  o.Set("finish", finish_reason_name(e.finish));
  if (e.finish != FinishReason::kNone) {
    if (e.finish == FinishReason::kError) {
      Napi::Object err = Napi::Object::New(env);
      err.Set("code", code_name(e.error.code));
      err.Set("message", e.error.message);
      o.Set("error", err);
    }
    Napi::Object usage = Napi::Object::New(env);
    usage.Set("promptTokens", static_cast<double>(e.prompt_tokens));
    usage.Set("cachedPromptTokens", static_cast<double>(e.cached_prompt_tokens));
    usage.Set("completionTokens", static_cast<double>(e.completion_tokens));
    o.Set("usage", usage);
  }
  return o;
}

}  // namespace xlam::binding
