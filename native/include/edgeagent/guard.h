// edgeagent behaviour guards: a small temporal-logic policy language over agent events
// and a runtime monitor that judges each event before it happens.
//
//   auto policy = GuardPolicy::parse(text, "policy.ltl", &tools);   // GuardPolicyError on bad input
//   GuardMonitor monitor(policy);
//   GuardVerdict v = monitor.check(event);   // pure: what would happen if `event` came next
//   monitor.step(event);                     // commit the event to the trace
//   monitor.check_final(out);                // future-time obligations of the turn
//
// Past-time rules (`when`) are monitored Havelund–Rosu style: one bit per subformula
// (an integer per counter), recomputed bottom-up from the previous step's values, so
// every event costs the same, whatever the trace length. Future-time obligations
// (`require`) are compiled at parse time into a DFA by formula progression over the
// finite trace of a turn; at run time each event is one table lookup per obligation.
// Neither check() nor step() allocates.
//
// The language is documented in README.md ("Behaviour guards"). A GuardMonitor is not
// thread-safe (one per conversation); a GuardPolicy is immutable and can be shared.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgeagent/errors.h"
#include "edgeagent/json.h"

namespace edgeagent {

// A policy that cannot be compiled: syntax, unknown tool or argument, type mismatch,
// an operator in the wrong place. what() is "source:line:column: message".
class GuardPolicyError : public Error {
 public:
  GuardPolicyError(std::string source, int line, int column, std::string message);
  const std::string& source() const { return source_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  std::string source_;
  int line_, column_;
  std::string message_;
};

enum class GuardEventKind : uint8_t { User, Call, Result, Text, Final, Custom };

// One event of an agent's trace. A view: it owns nothing and must stay valid only for
// the duration of the call it is passed to.
struct GuardEvent {
  GuardEventKind kind = GuardEventKind::Text;
  std::string_view name;        // Call/Result: the tool; Custom: the event kind (e.g. "thought")
  const Json* value = nullptr;  // Call: the arguments (an object); Result: the tool's result
  std::string_view text;        // User/Text/Final/Custom: the text
};

// Ordered by severity: when several rules fire, the most severe wins (ties: the first
// rule in the file).
enum class GuardAction : uint8_t { Allow = 0, Confirm = 1, Deny = 2, Stop = 3 };
const char* guard_action_name(GuardAction a);

struct GuardVerdict {
  GuardAction action = GuardAction::Allow;
  int32_t rule = -1;  // index into GuardPolicy::rules(), -1 when allowed
};

// What a one-step lookahead says about calling a tool next, arguments not yet known.
enum class ToolAllowance : uint8_t {
  Allowed = 0,  // no deny/stop rule can fire, whatever the arguments
  Denied = 1,   // a deny/stop rule fires whatever the arguments
  Depends = 2,  // some arguments would make a deny/stop rule fire
};
const char* tool_allowance_name(ToolAllowance a);

// A tool the policy may name. With a tool list, unknown tool names, unknown argument
// names and literal/argument type mismatches are compile errors.
struct GuardToolInfo {
  std::string name;
  std::string schema_json;        // the tool's parameters JSON Schema ("" = unknown)
  std::vector<std::string> tags;  // names usable in tagged(...), e.g. "side_effect"
};

struct GuardRuleInfo {
  std::string name;
  GuardAction action = GuardAction::Deny;
  bool obligation = false;  // `require` rule (judged at the end of a turn)
  std::string text;         // the rule's source text
  std::string reason;       // the `because` text, or a description from the source
  int line = 0, column = 0;
};

// A constraint every allowed call of a tool must satisfy (for narrowing the argument
// schema at decode time): `argument op literal`, op one of == in < <= > >= matches.
struct ArgumentConstraint {
  std::string argument;
  std::string op;
  std::string literal_json;  // the literal as JSON (a regex pattern as a JSON string)
  int32_t rule = -1;
};

namespace guard_detail {
struct Program;
}

class GuardPolicy {
 public:
  // Parses and compiles policy text. `source` names it in errors. With `tools`, tool
  // names, argument names and argument types are checked against them, and tags are
  // taken from them. Throws GuardPolicyError.
  static std::shared_ptr<const GuardPolicy> parse(std::string_view text, std::string source = "<policy>",
                                                  const std::vector<GuardToolInfo>* tools = nullptr);
  ~GuardPolicy();
  const std::vector<GuardRuleInfo>& rules() const;
  // Custom event kinds the policy declares (`event thought, action;`).
  const std::vector<std::string>& custom_events() const;
  const guard_detail::Program& program() const { return *program_; }
  explicit GuardPolicy(std::unique_ptr<guard_detail::Program> p);

 private:
  std::unique_ptr<guard_detail::Program> program_;
};

class GuardMonitor {
 public:
  explicit GuardMonitor(std::shared_ptr<const GuardPolicy> policy);
  ~GuardMonitor();
  GuardMonitor(GuardMonitor&&) noexcept;
  GuardMonitor& operator=(GuardMonitor&&) noexcept;

  const GuardPolicy& policy() const { return *policy_; }
  // Forgets the trace (a new conversation).
  void reset();
  // The verdict `event` would get as the next event. Does not change the trace.
  GuardVerdict check(const GuardEvent& event) const;
  // Appends `event` to the trace; returns the verdict it got (as check() would).
  GuardVerdict step(const GuardEvent& event);
  // Obligations (`require` rules) the current turn violates if it ends now; appends one
  // verdict per violated rule to `out`. A turn starts at each `user` event.
  void check_final(std::vector<GuardVerdict>& out) const;
  // One-step lookahead for a call of `tool` whose arguments are not known yet.
  ToolAllowance allowed_tool(std::string_view tool) const;
  // Constraints on the arguments of the next call of `tool` under which the deny/stop
  // rules that depend on the arguments do not fire (those expressible per argument).
  std::vector<ArgumentConstraint> argument_constraints(std::string_view tool) const;
  size_t trace_length() const { return length_; }

 private:
  struct State;
  void evaluate(const GuardEvent& event, State& out) const;
  GuardVerdict verdict_of(const State& s) const;
  // Three-valued evaluation (into scratch_) of a call of `tool` with unknown arguments
  // as the next event; atom `forced` (if >= 0) pinned to `forced_value`.
  void lookahead(std::string_view tool, int32_t forced, uint8_t forced_value) const;

  std::shared_ptr<const GuardPolicy> policy_;
  std::unique_ptr<State> current_;
  std::unique_ptr<State> scratch_;  // check() computes into this (hence not thread-safe)
  size_t length_ = 0;
};

// Timing support for `edgeagent bench guard`: runs `events` through a fresh monitor
// `rounds` times (reset between rounds), timing each step; then times allowed_tool()
// over `tools` once per event position. Nanoseconds, clock overhead included.
struct GuardTimings {
  std::vector<double> step_ns;
  std::vector<double> allowed_tools_ns;  // all of `tools`, one sample per position
};
GuardTimings time_guard(const std::shared_ptr<const GuardPolicy>& policy, const std::vector<GuardEvent>& events,
                        const std::vector<std::string>& tools, int rounds);

}  // namespace edgeagent
