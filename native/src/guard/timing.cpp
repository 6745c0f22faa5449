// Timing loop behind `edgeagent bench guard` (in the core so that the figures measure
// the monitor, not the Python binding around it).
#include <chrono>

#include "edgeagent/guard.h"

namespace edgeagent {

GuardTimings time_guard(const std::shared_ptr<const GuardPolicy>& policy, const std::vector<GuardEvent>& events,
                        const std::vector<std::string>& tools, int rounds) {
  using clock = std::chrono::steady_clock;
  if (rounds < 1) throw InvalidArgument("rounds must be >= 1");
  GuardTimings t;
  t.step_ns.reserve(events.size() * static_cast<size_t>(rounds));
  GuardMonitor m(policy);
  for (int r = 0; r < rounds; ++r) {
    m.reset();
    for (const auto& e : events) {
      auto a = clock::now();
      m.step(e);
      auto b = clock::now();
      t.step_ns.push_back(std::chrono::duration<double, std::nano>(b - a).count());
    }
  }
  m.reset();
  volatile int sink = 0;
  for (const auto& e : events) {
    auto a = clock::now();
    for (const auto& name : tools) sink += static_cast<int>(m.allowed_tool(name));
    auto b = clock::now();
    t.allowed_tools_ns.push_back(std::chrono::duration<double, std::nano>(b - a).count());
    m.step(e);
  }
  (void)sink;
  return t;
}

}  // namespace edgeagent
