// Byte-level pushdown automaton and its stepping engine (internal).
//
// Each rule is a DFA over bytes (subset construction; an NFA when that would blow up) whose
// nodes may also carry call edges (rule, return node, optional gate). A matcher
// configuration is (node, stack) where the stack is a hash-consed persistent frame list; a
// call whose return node is a pure rule end pushes nothing (tail call). A state is the
// closure of a set of configurations under calls (push) and rule ends (pop). "Kernel"
// configurations (reached by a byte or a pop) regenerate the rest when gates change.
//
// Token masks (matcher.cpp):
//   * per node, once per vocabulary structure: walk the token trie from (node, empty local
//     stack) without closing depth 0 (calls/pops there are separate configurations of the
//     runtime state). Tokens consumed entirely are accepted whatever the real stack;
//     tokens that need to pop below the local bottom (next byte in the rule's FOLLOW set)
//     or cross a gated call are "uncertain"; the rest are rejected. Walks are memoized
//     (state sets interned, transitions cached) and shared across grammars through the
//     vocabulary when the node's reachable sub-automaton is identical.
//   * uncertain tokens are resolved with 1..4 known return nodes of the real stack
//     (context caches, per CompiledGrammar), and only what remains is checked at run time.
//     Most of them end the node's rule at a fixed point and can only go on in the caller
//     (a string's closing quote: `",`, `abc"}`); those are indexed by that suffix, so a
//     context cache walks each distinct suffix once, from the return node.
//   * mask = OR over the state's configurations that have byte edges.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgeagent/grammar.h"
#include "ir.h"

namespace edgeagent {
namespace detail {

struct ByteEdge {
  uint8_t lo, hi;
  uint32_t target;
};

struct CallEdge {
  uint32_t rule;
  uint32_t ret;
  int32_t gate;  // -1: always enabled
};

struct Node {
  uint32_t e_begin = 0, e_end = 0;  // byte edges
  uint32_t c_begin = 0, c_end = 0;  // call edges
  uint32_t rule = 0;
  bool final = false;       // the rule may end here
  bool pure_final = false;  // final with no edges: returning here == returning to the caller
};

struct Automaton {
  std::vector<Node> nodes;
  std::vector<ByteEdge> edges;
  std::vector<CallEdge> calls;
  std::vector<uint32_t> rule_start;
  std::vector<std::string> rule_names;
  std::vector<ByteSet> follow;  // per rule: bytes that may follow the rule's end
  std::vector<std::string> gate_names;
  uint32_t root_rule = 0;
  uint32_t root_node = 0;
  bool root_productive = true;  // the grammar derives at least one finite string
  GrammarLimits limits;
};

struct Config {
  uint32_t node;
  uint32_t stack;
  bool operator==(const Config& o) const { return node == o.node && stack == o.stack; }
};

struct Frame {
  uint32_t ret, parent, depth;
};

// Hash-consed frames; frame 0 is the empty stack.
class Gss {
 public:
  Gss() { clear(); }
  void clear();
  uint32_t intern(uint32_t ret, uint32_t parent);
  const Frame& operator[](uint32_t i) const { return frames_[i]; }
  size_t size() const { return frames_.size(); }

 private:
  std::vector<Frame> frames_;
  std::vector<uint32_t> table_;  // open addressing, 0 = empty (frame 0 never stored)
  void rehash();
};

// Flags produced by a closure in local mode.
struct ClosureInfo {
  bool escaped_pop = false;   // a final node at the local bottom (rule could end here)
  bool escaped_gate = false;  // a gated call whose gate is unknown in local mode
  ByteSet escape_follow;      // union of FOLLOW of rules that can end at the bottom
};

// Stepping engine with reusable scratch memory.
class Engine {
 public:
  // gates == nullptr: local mode (pops at the bottom and gated calls are recorded as
  // escapes instead of being followed).
  Engine(const Automaton* a, Gss* gss, const std::vector<uint64_t>* gates)
      : a_(a), gss_(gss), gates_(gates) {}

  // Adds a seed configuration (before closure()).
  void seed(std::vector<Config>& v, std::vector<uint8_t>& kernel, Config c, bool is_kernel);
  // Closes v (seeds already in v/kernel) under push/pop. Throws GrammarLimitError when the
  // configuration limit is exceeded.
  void closure(std::vector<Config>& v, std::vector<uint8_t>& kernel, ClosureInfo* info);
  // out = closure(step(in, b)). Returns false when out is empty.
  bool step(const std::vector<Config>& in, uint8_t b, std::vector<Config>& out,
            std::vector<uint8_t>& out_kernel, ClosureInfo* info);
  void begin_set();

  const Automaton* a_;
  Gss* gss_;
  const std::vector<uint64_t>* gates_;

 private:
  // dedupe table: (node, stack) -> index in v, generation-stamped
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> vals_;
  std::vector<uint32_t> gen_;
  uint32_t cur_gen_ = 1;
  size_t count_ = 0;
  bool insert(std::vector<Config>& v, std::vector<uint8_t>& kernel, Config c, bool is_kernel);
  void grow(const std::vector<Config>& v);
};

}  // namespace detail
}  // namespace edgeagent
