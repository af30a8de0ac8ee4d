// The engine thread: requests submitted from several threads at once are batched and each gets
// its solo output; cancel and close end requests with the right events; stats return to idle.
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "../cpu/cpu-backend.h"
#include "../src/engine.h"
#include "check.h"

using namespace xlam;

namespace {

std::string fixture(const std::string& name) {
  const char* dir = std::getenv("XLAM_FIXTURES");
  return std::string(dir ? dir : "test/fixtures/models") + "/" + name;
}

std::unique_ptr<Engine> load(const std::string& name, int64_t kv_tokens = 0) {
  EngineOptions o;
  o.kv_cache_tokens = kv_tokens;
  o.max_batch_tokens = 64;
  std::unique_ptr<Engine> e;
  Status st = Engine::load(fixture(name), o, std::make_unique<cpu::CpuBackend>(cpu::CpuOptions{2, false}), &e);
  CHECK_MSG(st.ok(), "loading %s: %s", name.c_str(), st.message.c_str());
  return e;
}

RequestParams request(int i) {
  RequestParams r;
  for (int k = 0; k < 5 + 13 * i; ++k) r.prompt.push_back(100 + (k * 31 + i) % 5000);
  r.max_tokens = 8;
  r.sampling.temperature = 0;  // greedy
  return r;
}

// Test helper: submits one request and blocks the calling thread until its last event.
Status generate(Engine& engine, RequestParams params, std::vector<int32_t>* tokens) {
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Status status;
    std::vector<int32_t> tokens;
  };
  auto w = std::make_shared<Waiter>();
  uint64_t id = 0;
  XLAM_TRY(engine.submit(std::move(params), [w](const RequestEvent& e) {
    std::lock_guard<std::mutex> lock(w->mu);
    if (e.token >= 0) w->tokens.push_back(e.token);
    if (e.finish == FinishReason::kNone) return;
    if (e.finish == FinishReason::kError) w->status = e.error;
    w->done = true;
    w->cv.notify_all();
  }, &id));
  std::unique_lock<std::mutex> lock(w->mu);
  w->cv.wait(lock, [&] { return w->done; });
  *tokens = std::move(w->tokens);
  return w->status;
}

// The events of several requests, collected on the engine thread; the test thread waits on them.
struct EventLog {
  std::mutex mu;
  std::map<uint64_t, int> tokens;         // tokens per request
  std::map<uint64_t, RequestEvent> last;  // the final event per request

  RequestHandler handler() {
    return [this](const RequestEvent& ev) {
      std::lock_guard<std::mutex> lock(mu);
      if (ev.token >= 0) tokens[ev.id]++;
      if (ev.finish != FinishReason::kNone) last[ev.id] = ev;
    };
  }
  // Polls `done` (under the lock) every 5 ms, at most `tries` times; whether it came true.
  template <class Done>
  bool wait_for(Done done, int tries) {
    for (int i = 0; i < tries; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (done()) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
};

}  // namespace

TEST_CASE("engine: requests from 8 threads at once each get their solo tokens") {
  auto solo = load("qwen2-f32");
  auto shared = load("qwen2-f32");
  if (!solo || !shared) return;
  std::vector<std::vector<int32_t>> expect(8), got(8);
  for (int i = 0; i < 8; ++i) CHECK(generate(*solo, request(i), &expect[i]).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] { failures += !generate(*shared, request(i), &got[i]).ok(); });
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  for (int i = 0; i < 8; ++i) CHECK_MSG(got[i] == expect[i], "request %d", i);
  const SchedulerStats s = shared->stats();
  CHECK(s.running == 0 && s.waiting == 0 && s.kv_blocks_used == 0);
  CHECK(s.generated_tokens == 64);
}

TEST_CASE("engine: cancel ends a request with abort; close ends the rest with ENGINE_CLOSED") {
  auto e = load("qwen2-f32");
  if (!e) return;
  EventLog log;
  auto handler = log.handler();
  auto& tokens = log.tokens;
  auto& last = log.last;
  RequestParams p;
  p.prompt = std::vector<int32_t>(30, 7);
  p.max_tokens = 1000;
  uint64_t a = 0, b = 0;
  CHECK(e->submit(p, handler, &a).ok());
  CHECK(e->submit(p, handler, &b).ok());
  log.wait_for([&] { return tokens[a] >= 3; }, 200);
  e->cancel(a);
  log.wait_for([&] { return last.count(a) > 0; }, 200);
  e->close();
  CHECK(last[a].finish == FinishReason::kAbort);
  CHECK(last[b].finish == FinishReason::kError && last[b].error.code == Code::kEngineClosed);
  uint64_t c = 0;
  CHECK(e->submit(p, handler, &c).code == Code::kEngineClosed);
  e->close();  // twice is fine
}

TEST_CASE("engine: when nothing can be scheduled the engine thread waits for the next operation") {
  // 4 blocks of 16: request a (prompt 40) is paused holding 3 of them; b (another prompt of 40)
  // needs 3 and waits. Until a resumes, a step can do nothing: the loop must sleep, not spin.
  auto e = load("qwen2-f32", 64);
  if (!e) return;
  std::atomic<int> loops{0};
  e->set_step_hook([&] { loops += 1; });
  EventLog log;
  auto handler = log.handler();
  auto& tokens = log.tokens;
  auto& last = log.last;
  auto wait_for = [&](auto done) { return log.wait_for(done, 1000); };
  RequestParams pa, pb;
  for (int k = 0; k < 40; ++k) {
    pa.prompt.push_back(200 + k);
    pb.prompt.push_back(900 + k);
  }
  pa.max_tokens = pb.max_tokens = 20;
  uint64_t a = 0, b = 0;
  CHECK(e->submit(pa, handler, &a).ok());
  CHECK(wait_for([&] { return tokens[a] >= 2; }));
  e->set_paused(a, true);
  CHECK(e->submit(pb, handler, &b).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the pause and b's first try
  const int before = loops.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int idle = loops.load() - before;
  CHECK_MSG(idle <= 2, "%d engine loop iterations in 300 ms with nothing to schedule", idle);
  CHECK(e->stats().waiting == 1);
  e->set_paused(a, false);  // a finishes, then b gets the blocks
  CHECK(wait_for([&] { return last.count(a) && last.count(b); }));
  CHECK(last[a].finish == FinishReason::kLength && last[b].finish == FinishReason::kLength);
  CHECK(tokens[a] == 20 && tokens[b] == 20);
  e->close();
}
