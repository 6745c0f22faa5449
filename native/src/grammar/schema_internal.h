// JSON Schema compiler entry points shared with the tool-envelope builder (internal).
#pragma once

#include <string>
#include <vector>

#include "edgeagent/grammar.h"
#include "ir.h"

namespace edgeagent {
namespace detail {

// Compiles a whole document into a new root rule (with surrounding whitespace in
// flexible mode). Returns the rule id. unsat_reason (if given) receives why a
// subschema admits no value ("at /properties/a, 'minimum' 10 is greater than ...").
uint32_t compile_schema_into(IrBuilder& ir, const Json& schema, const JsonSchemaOptions& opt,
                             std::vector<std::string>* warnings, std::string* unsat_reason = nullptr);
// Compiles a document into an expression for one JSON value (no surrounding whitespace).
uint32_t compile_schema_value(IrBuilder& ir, const Json& schema, const JsonSchemaOptions& opt,
                              std::vector<std::string>* warnings, std::string* unsat_reason = nullptr);
// The error text for a schema that admits no value, with the reason when known.
std::string unsatisfiable_message(const std::string& reason);

}  // namespace detail
}  // namespace edgeagent
