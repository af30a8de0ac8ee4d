// Conversions between JS values and engine structs, shared by the binding's files.
#pragma once
#include <napi.h>

#include <exception>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "../src/fault-injection.h"
#include "../src/scheduler.h"
#include "../src/status.h"

namespace xlam::binding {

// A JS Error carrying `code` (and `file`, `tensor` when set) for lib/errors.ts to type.
Napi::Error make_error(Napi::Env env, const Status& st);
// A TypeError with code INVALID_ARGUMENT.
Napi::Error arg_error(Napi::Env env, const std::string& message);

// Runs f, the body of a function called from JS: a JS exception (Napi::Error) goes on to JS as
// it is; any other C++ exception becomes a JS error with code OUT_OF_MEMORY (std::bad_alloc)
// or INTERNAL, instead of ending the process. `site` names it for fault injection.
template <typename F>
auto guarded(Napi::Env env, const char* site, F&& f) -> decltype(f()) {
  try {
    fault::point(site);
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    make_error(env, Status::Error(Code::kOutOfMemory, std::string("out of memory in ") + site)).ThrowAsJavaScriptException();
  } catch (const std::exception& e) {
    make_error(env, Status::Error(Code::kInternal, std::string(site) + ": " + e.what())).ThrowAsJavaScriptException();
  } catch (...) {
    make_error(env, Status::Error(Code::kInternal, std::string(site) + ": unknown native exception")).ThrowAsJavaScriptException();
  }
  return decltype(f())();
}

// Optional integer option in lo..hi; false (with a pending JS exception) when invalid.
bool get_int(Napi::Env env, const Napi::Object& o, const char* key, int64_t lo, int64_t hi, int64_t* out);
// Optional finite number option; false (with a pending JS exception) when invalid.
bool get_number(Napi::Env env, const Napi::Object& o, const char* key, double* out);
// Token ids from an array of integers or an Int32Array, at most kMaxIds of them (more could
// never fit a context; the length is checked before anything is allocated).
constexpr uint32_t kMaxIds = 1u << 24;
bool get_ids(Napi::Env env, Napi::Value v, const char* what, std::vector<int32_t>* out);

// Bytes of a typed array of the given type (shape check); false with a pending JS exception.
template <typename T>
bool get_typed(Napi::Env env, Napi::Value v, napi_typedarray_type type, const char* what, std::vector<T>* out) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    arg_error(env, std::string(what) + " has the wrong typed-array type").ThrowAsJavaScriptException();
    return false;
  }
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  out->assign(a.Data(), a.Data() + a.ElementLength());
  return true;
}

// The vocabulary's token bytes from info[first..first+2]: data (Uint8Array), offsets
// (Uint32Array), allowed (Uint8Array); false with a pending JS exception (`usage` names the call).
bool get_token_bytes(const Napi::CallbackInfo& info, size_t first, const char* usage, std::vector<uint8_t>* data,
                     std::vector<uint32_t>* offsets, std::vector<uint8_t>* allowed);

// A ByteGrammar object (lib/grammar/bytes.ts) into the engine's struct (shape checks only;
// validate_grammar checks the contents).
bool get_grammar(Napi::Env env, Napi::Value v, ByteGrammar* out);

// A submit() request object into RequestParams (shape checks only; ranges are the engine's).
bool get_request(Napi::Env env, const Napi::Object& o, RequestParams* out);

// One step's best alternatives as [[id, logprob], ...].
Napi::Array top_logprobs_to_js(Napi::Env env, const std::vector<std::pair<int32_t, float>>& pairs);

// One event as a JS object: {id, token, topLogprobs?, finish, error?, usage?}.
Napi::Object event_to_js(Napi::Env env, const RequestEvent& e);

}  // namespace xlam::binding
