// GrammarSession: the native grammar matcher on its own, for tests and benchmarks (no model):
// byte-level matching, token masks after a prefix, and timed mask replays. Runs on the calling
// thread; serving goes through the engine (RequestParams::grammar) instead.
#pragma once
#include <napi.h>

namespace xlam::binding {

Napi::Function define_grammar_session(Napi::Env env);

}  // namespace xlam::binding
