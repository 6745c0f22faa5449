// edgeagent._core: the pybind11 binding of the native core. Only type conversion,
// GIL release around long calls, and the mapping of C++ errors to edgeagent.errors.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "edgeagent/adapter.h"
#include "edgeagent/errors.h"
#include "edgeagent/grammar.h"
#include "edgeagent/guard.h"
#include "edgeagent/log.h"
#include "edgeagent/logits_session.h"
#include "edgeagent/model.h"
#include "edgeagent/quantize.h"
#include "edgeagent/session.h"

namespace py = pybind11;
using namespace edgeagent;

namespace {

void register_errors(py::module_& m) {
    // Resolved once, at import: the classes live in pure Python (edgeagent.errors).
    // Deliberately leaked: a static py::object would be released after the interpreter
    // has shut down.
    static py::object& errors = *new py::object(py::module_::import("edgeagent.errors"));
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const InvalidArgument& e) {
            PyErr_SetString(errors.attr("InvalidParameterError").ptr(), e.what());
        } catch (const ModelFileError& e) {
            PyErr_SetString(errors.attr("ModelFileError").ptr(), e.what());
        } catch (const ContextOverflow& e) {
            PyErr_SetString(errors.attr("ContextOverflowError").ptr(), e.what());
        } catch (const DecodeFailure& e) {
            PyErr_SetString(errors.attr("DecodeError").ptr(), e.what());
        } catch (const GuardPolicyError& e) {
            // The Python class carries the position as attributes too.
            py::object cls = errors.attr("GuardPolicyError");
            auto text = [](const std::string& s) {  // never fail on a byte sequence in a message
                return py::reinterpret_steal<py::str>(PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
            };
            py::object err = cls(text(e.what()));
            err.attr("source") = text(e.source());
            err.attr("line") = e.line();
            err.attr("column") = e.column();
            err.attr("message") = text(e.message());
            PyErr_SetObject(cls.ptr(), err.ptr());
        } catch (const AdapterError& e) {
            PyErr_SetString(errors.attr("AdapterError").ptr(), e.what());
        } catch (const GrammarError& e) {
            PyErr_SetString(errors.attr("GrammarError").ptr(), e.what());
        } catch (const Error& e) {  // after every subclass
            PyErr_SetString(errors.attr("EdgeAgentError").ptr(), e.what());
        }
    });
    (void)m;
}

py::bytes to_bytes(const std::string& s) { return py::bytes(s.data(), s.size()); }

// Python-side handles for the grammar engine's shared, immutable objects.
struct PyGrammar {
    std::shared_ptr<const Grammar> grammar;
    std::vector<std::string> warnings;
};
struct PyCompiledGrammar {
    std::shared_ptr<const CompiledGrammar> compiled;
};
struct PyMatcher {
    std::shared_ptr<const CompiledGrammar> compiled;  // keeps the vocabulary alive
    GrammarMatcher matcher;
};

// Guard events arrive as (kind, name, value JSON or None, text); the Json lives here
// for the duration of the call.
struct PyGuardEvent {
    Json value;
    GuardEvent event;
    PyGuardEvent(int kind, std::string name_, const std::optional<std::string>& value_json, std::string text_)
        : name(std::move(name_)), text(std::move(text_)) {
        if (kind < 0 || kind > static_cast<int>(GuardEventKind::Custom)) throw InvalidArgument("guard event kind out of range");
        event.kind = static_cast<GuardEventKind>(kind);
        if (value_json) {
            value = parse_json(*value_json);
            event.value = &value;
        }
        event.name = name;
        event.text = text;
    }
    PyGuardEvent(const PyGuardEvent&) = delete;
    std::string name, text;
};

py::tuple verdict_tuple(GuardVerdict v) { return py::make_tuple(static_cast<int>(v.action), v.rule); }

ToolChoice parse_choice(const std::string& mode) {
    if (mode == "auto") return ToolChoice::Auto;
    if (mode == "required") return ToolChoice::Required;
    if (mode == "none") return ToolChoice::None;
    if (mode == "named") return ToolChoice::Named;
    throw InvalidArgument("tool choice must be auto, required, none or named, got '" + mode + "'");
}

ToolFormat parse_format(const std::string& format) {
    if (format == "hermes") return ToolFormat::Hermes;
    if (format == "json") return ToolFormat::JsonArray;
    if (format == "json_object") return ToolFormat::JsonObject;
    throw InvalidArgument("tool-call format must be 'hermes', 'json' or 'json_object', got '" + format + "'");
}

// The last row of a logits array ([.., seq, vocab], float32, C-contiguous), written
// in place by the sampler: no copy.
std::pair<float*, size_t> last_logits_row(py::buffer logits) {
    py::buffer_info info = logits.request(true);
    if (info.format != py::format_descriptor<float>::format())
        throw InvalidArgument("logits must be float32, got format '" + info.format + "'");
    py::ssize_t stride = sizeof(float);
    for (py::ssize_t d = info.ndim - 1; d >= 0; --d) {
        if (info.shape[d] > 1 && info.strides[d] != stride) throw InvalidArgument("logits must be a C-contiguous array");
        stride *= info.shape[d];
    }
    if (info.ndim < 1 || info.size == 0) throw InvalidArgument("logits must not be empty");
    const size_t n = static_cast<size_t>(info.shape.back());
    return {static_cast<float*>(info.ptr) + (static_cast<size_t>(info.size) - n), n};
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "edgeagent native core (llama.cpp decode loop, sampler, prefix cache)";
    register_errors(m);

    m.def(
        "set_log_sink",
        [](py::object sink, int min_level) {
            // The Python callable lives in a leaked slot (not in the C++ std::function,
            // whose static destructor would run after the interpreter is gone).
            static py::object& slot = *new py::object();
            if (min_level < 0 || min_level > 3) throw InvalidArgument("min_level must be 0..3");
            if (sink.is_none()) {
                set_log_sink(nullptr);
                slot = py::none();
                return;
            }
            slot = sink;
            set_log_sink(
                [](LogLevel level, const std::string& text) {
                    py::gil_scoped_acquire gil;
                    slot(static_cast<int>(level), text);
                },
                static_cast<LogLevel>(min_level));
        },
        py::arg("sink"), py::arg("min_level") = 2,
        "Route llama.cpp's log to sink(level, text); None restores quiet mode.");

    py::class_<ModelParams>(m, "ModelParams")
        .def(py::init<>())
        .def_readwrite("n_gpu_layers", &ModelParams::n_gpu_layers)
        .def_readwrite("use_mmap", &ModelParams::use_mmap)
        .def_readwrite("vocab_only", &ModelParams::vocab_only);

    py::class_<Model, std::shared_ptr<Model>>(m, "Model")
        .def_static("load", &Model::load, py::arg("path"), py::arg("params") = ModelParams{},
                    py::call_guard<py::gil_scoped_release>())
        .def_property_readonly("path", &Model::path)
        .def_property_readonly("n_vocab", &Model::n_vocab)
        .def_property_readonly("n_ctx_train", &Model::n_ctx_train)
        .def_property_readonly("n_params", &Model::n_params)
        .def_property_readonly("size_bytes", &Model::size_bytes)
        .def_property_readonly("description", &Model::description)
        .def_property_readonly("bos", &Model::bos)
        .def_property_readonly("eos", &Model::eos)
        .def_property_readonly("adds_bos", &Model::adds_bos)
        .def_property_readonly("chat_template", &Model::chat_template)
        .def("tokenize", &Model::tokenize, py::arg("text"), py::arg("add_special") = true,
             py::arg("parse_special") = false)
        .def(
            "detokenize",
            [](const Model& self, const std::vector<Token>& tokens, bool special) {
                return to_bytes(self.detokenize(tokens, special));
            },
            py::arg("tokens"), py::arg("special") = false)
        .def("token_bytes", [](const Model& self, Token t) {
            if (t < 0 || t >= self.n_vocab()) throw InvalidArgument("token id " + std::to_string(t) + " out of range");
            return to_bytes(self.token_bytes(t));
        })
        .def("token_text", &Model::token_text)
        .def("is_end_of_generation", &Model::is_end_of_generation)
        .def("metadata", &Model::metadata);

    py::class_<SessionParams>(m, "SessionParams")
        .def(py::init<>())
        .def_readwrite("n_ctx", &SessionParams::n_ctx)
        .def_readwrite("n_threads", &SessionParams::n_threads)
        .def_readwrite("n_threads_batch", &SessionParams::n_threads_batch)
        .def_readwrite("n_batch", &SessionParams::n_batch)
        .def_readwrite("flash_attn", &SessionParams::flash_attn);

    py::class_<SamplingParams>(m, "SamplingParams")
        .def(py::init<>())
        .def_readwrite("temperature", &SamplingParams::temperature)
        .def_readwrite("top_k", &SamplingParams::top_k)
        .def_readwrite("top_p", &SamplingParams::top_p)
        .def_readwrite("min_p", &SamplingParams::min_p)
        .def_readwrite("repeat_penalty", &SamplingParams::repeat_penalty)
        .def_readwrite("repeat_last_n", &SamplingParams::repeat_last_n)
        .def_readwrite("seed", &SamplingParams::seed);

    py::class_<GenerateParams>(m, "GenerateParams")
        .def(py::init<>())
        .def_readwrite("sampling", &GenerateParams::sampling)
        .def_readwrite("max_tokens", &GenerateParams::max_tokens)
        .def_readwrite("stop", &GenerateParams::stop)
        .def_readwrite("ignore_eos", &GenerateParams::ignore_eos)
        .def_readwrite("jump_forward", &GenerateParams::jump_forward)
        .def_readwrite("sparse_logits", &GenerateParams::sparse_logits)
        .def_readwrite("boundary_draft", &GenerateParams::boundary_draft)
        .def_readwrite("stop_repeats", &GenerateParams::stop_repeats)
        .def_readwrite("end_bias", &GenerateParams::end_bias)
        .def_readwrite("logit_bias", &GenerateParams::logit_bias)
        .def_readwrite("adapter", &GenerateParams::adapter)
        .def_readwrite("adapter_scale", &GenerateParams::adapter_scale)
        .def_readwrite("gate_position", &GenerateParams::gate_position)
        .def_readwrite("gate_tokens", &GenerateParams::gate_tokens);

    py::class_<LoraAdapter, std::shared_ptr<LoraAdapter>>(m, "LoraAdapter")
        .def_static("load", &LoraAdapter::load, py::arg("model"), py::arg("path"),
                    py::call_guard<py::gil_scoped_release>())
        .def_property_readonly("path", &LoraAdapter::path)
        .def_property_readonly("alpha", &LoraAdapter::alpha)
        .def("metadata", &LoraAdapter::metadata);

    m.def("quantize_types", &quantize_types);
    m.def(
        "quantize_model",
        [](const std::string& src, const std::string& dst, const std::string& type, int32_t n_threads,
           py::object imatrix, bool from_quantized) {
            QuantizeParams p;
            p.type = type;
            p.n_threads = n_threads;
            p.from_quantized = from_quantized;
            ImportanceMatrix im;
            if (!imatrix.is_none()) im = imatrix.cast<ImportanceMatrix>();
            if (!im.empty()) p.imatrix = &im;
            py::gil_scoped_release release;
            quantize_model(src, dst, p);
        },
        py::arg("src"), py::arg("dst"), py::arg("type"), py::arg("n_threads") = 0, py::arg("imatrix") = py::none(),
        py::arg("from_quantized") = false,
        "Quantizes the GGUF `src` into `dst` (llama_model_quantize); imatrix: {tensor name: [float]}; "
        "from_quantized: re-encode a quantized `src`, its output and token-embedding tensors kept.");
    m.def("cpu_has_avx512_bf16", &cpu_has_avx512_bf16);
    m.def("compute_importance_matrix", &compute_importance_matrix, py::arg("path"), py::arg("tokens"),
          py::arg("n_ctx") = 512, py::arg("n_threads") = 0, py::call_guard<py::gil_scoped_release>());

    py::class_<Timings>(m, "Timings")
        .def_readonly("prompt_tokens", &Timings::prompt_tokens)
        .def_readonly("cached_tokens", &Timings::cached_tokens)
        .def_readonly("generated_tokens", &Timings::generated_tokens)
        .def_readonly("forced_tokens", &Timings::forced_tokens)
        .def_readonly("sparse_steps", &Timings::sparse_steps)
        .def_readonly("drafted_tokens", &Timings::drafted_tokens)
        .def_readonly("accepted_drafts", &Timings::accepted_drafts)
        .def_readonly("prefill_model", &Timings::prefill_model)
        .def_readonly("prefill_ms", &Timings::prefill_ms)
        .def_readonly("ttft_ms", &Timings::ttft_ms)
        .def_readonly("decode_ms", &Timings::decode_ms)
        .def_readonly("total_ms", &Timings::total_ms)
        .def_property_readonly("prefill_tok_s", &Timings::prefill_tok_s)
        .def_property_readonly("decode_tok_s", &Timings::decode_tok_s);

    py::class_<GenerateResult>(m, "GenerateResult")
        .def_property_readonly("text", [](const GenerateResult& r) { return to_bytes(r.text); })
        .def_readonly("tokens", &GenerateResult::tokens)
        .def_readonly("finish_reason", &GenerateResult::finish_reason)
        .def_readonly("stop_sequence", &GenerateResult::stop_sequence)
        .def_readonly("gate_token", &GenerateResult::gate_token)
        .def_readonly("timings", &GenerateResult::timings);

    py::class_<PyGrammar>(m, "Grammar")
        .def_readonly("warnings", &PyGrammar::warnings)
        .def_property_readonly("tool_names", [](const PyGrammar& g) { return g.grammar->tool_names(); })
        .def_property_readonly("num_nodes", [](const PyGrammar& g) { return g.grammar->num_nodes(); });

    m.def(
        "grammar_from_json_schema",
        [](const std::string& schema, bool lenient, bool validation, bool additional_properties_default) {
            JsonSchemaOptions o = validation ? JsonSchemaOptions::validation() : JsonSchemaOptions{};
            if (!validation) o.additional_properties_default = additional_properties_default;
            o.lenient = lenient;
            PyGrammar g;
            g.grammar = Grammar::from_json_schema(schema, o, &g.warnings);
            return g;
        },
        py::arg("schema"), py::arg("lenient") = false, py::arg("validation") = false,
        py::arg("additional_properties_default") = false, py::call_guard<py::gil_scoped_release>());
    m.def(
        "grammar_from_ebnf",
        [](const std::string& text, const std::string& root) { return PyGrammar{Grammar::from_ebnf(text, root), {}}; },
        py::arg("text"), py::arg("root") = "root", py::call_guard<py::gil_scoped_release>());
    m.def(
        "grammar_from_regex", [](const std::string& pattern) { return PyGrammar{Grammar::from_regex(pattern), {}}; },
        py::arg("pattern"), py::call_guard<py::gil_scoped_release>());
    m.def(
        "grammar_from_tools",
        [](const std::vector<std::pair<std::string, std::string>>& tools, const std::string& mode,
           const std::string& tool_name, int max_parallel_calls, const std::string& format) {
            std::vector<ToolSpec> specs;
            for (const auto& [name, schema] : tools) specs.push_back(ToolSpec{name, parse_json(schema)});
            ToolCallOptions o;
            o.choice = parse_choice(mode);
            o.tool_name = tool_name;
            o.max_parallel_calls = max_parallel_calls;
            o.format = parse_format(format);
            PyGrammar g;
            g.grammar = Grammar::from_tools(specs, o, &g.warnings);
            return g;
        },
        py::arg("tools"), py::arg("mode") = "auto", py::arg("tool_name") = "", py::arg("max_parallel_calls") = 1,
        py::arg("format") = "hermes", py::call_guard<py::gil_scoped_release>());

    py::class_<PyCompiledGrammar>(m, "CompiledGrammar");
    m.def(
        "compile_grammar",
        [](const std::shared_ptr<Model>& model, const PyGrammar& g, bool precompute) {
            return PyCompiledGrammar{
                std::make_shared<const CompiledGrammar>(g.grammar, model->grammar_vocabulary(), precompute)};
        },
        py::arg("model"), py::arg("grammar"), py::arg("precompute") = true, py::call_guard<py::gil_scoped_release>());

    py::class_<PyMatcher>(m, "GrammarMatcher")
        .def(py::init([](const PyCompiledGrammar& c) { return new PyMatcher{c.compiled, GrammarMatcher(c.compiled)}; }))
        .def("fill_next_token_bitmask",
             [](PyMatcher& self) {
                 // A numpy uint32 array: bit t of word t/32 set = token t allowed.
                 py::array_t<uint32_t> words(static_cast<py::ssize_t>(self.compiled->vocab()->mask_words()));
                 self.matcher.fill_next_token_bitmask(words.mutable_data(), static_cast<size_t>(words.size()));
                 return words;
             })
        .def(
            "fill_next_token_bitmask",
            [](PyMatcher& self, py::array_t<uint32_t, py::array::c_style>& out) {
                // In place, into a buffer the caller reuses every step (as xgrammar's): no
                // allocation per token. noconvert + c_style: only a C-contiguous uint32 array
                // gets here; it must also be 1-D and writeable.
                if (out.ndim() != 1 || !out.writeable())
                    throw GrammarError("fill_next_token_bitmask: out must be a writeable, contiguous 1-D uint32 array");
                self.matcher.fill_next_token_bitmask(out.mutable_data(), static_cast<size_t>(out.size()));
                return out;
            },
            py::arg("out").noconvert())
        .def_property_readonly("mask_words", [](const PyMatcher& self) { return self.compiled->vocab()->mask_words(); })
        .def_property_readonly("vocab_size", [](const PyMatcher& self) { return self.compiled->vocab()->size(); })
        .def("accept_token", [](PyMatcher& self, int32_t t) { return self.matcher.accept_token(t); })
        .def("accept_bytes", [](PyMatcher& self, const py::bytes& b) { return self.matcher.accept_bytes(std::string(b)); })
        .def("rollback", [](PyMatcher& self, size_t n) { self.matcher.rollback(n); })
        .def("is_terminated", [](const PyMatcher& self) { return self.matcher.is_terminated(); })
        .def("can_terminate", [](const PyMatcher& self) { return self.matcher.can_terminate(); })
        .def("must_terminate", [](const PyMatcher& self) { return self.matcher.must_terminate(); })
        .def("find_jump_forward_bytes",
             [](const PyMatcher& self) { return to_bytes(self.matcher.find_jump_forward_bytes()); })
        .def("set_tool_enabled",
             [](PyMatcher& self, const std::string& name, bool on) { self.matcher.set_tool_enabled(name, on); })
        .def("reset", [](PyMatcher& self) { self.matcher.reset(); });

    py::class_<GuardPolicy, std::shared_ptr<GuardPolicy>>(m, "GuardPolicy")
        .def_static(
            "parse",
            [](const std::string& text, const std::string& source,
               const std::optional<std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>>& tools) {
                std::vector<GuardToolInfo> infos;
                if (tools)
                    for (const auto& [name, schema, tags] : *tools) infos.push_back(GuardToolInfo{name, schema, tags});
                auto p = GuardPolicy::parse(text, source, tools ? &infos : nullptr);
                return std::const_pointer_cast<GuardPolicy>(p);
            },
            py::arg("text"), py::arg("source") = "<policy>", py::arg("tools") = py::none())
        .def_property_readonly("rules",
                               [](const GuardPolicy& p) {
                                   py::list out;
                                   for (const auto& r : p.rules()) {
                                       py::dict d;
                                       d["name"] = r.name;
                                       d["action"] = guard_action_name(r.action);
                                       d["obligation"] = r.obligation;
                                       d["text"] = r.text;
                                       d["reason"] = r.reason;
                                       d["line"] = r.line;
                                       d["column"] = r.column;
                                       out.append(d);
                                   }
                                   return out;
                               })
        .def_property_readonly("custom_events", &GuardPolicy::custom_events);

    py::class_<GuardMonitor>(m, "GuardMonitor")
        .def(py::init([](const std::shared_ptr<GuardPolicy>& p) { return new GuardMonitor(p); }))
        .def("reset", &GuardMonitor::reset)
        .def("check",
             [](const GuardMonitor& self, int kind, std::string name, std::optional<std::string> value, std::string text) {
                 PyGuardEvent e(kind, std::move(name), value, std::move(text));
                 return verdict_tuple(self.check(e.event));
             })
        .def("step",
             [](GuardMonitor& self, int kind, std::string name, std::optional<std::string> value, std::string text) {
                 PyGuardEvent e(kind, std::move(name), value, std::move(text));
                 return verdict_tuple(self.step(e.event));
             })
        .def("check_final",
             [](const GuardMonitor& self) {
                 std::vector<GuardVerdict> out;
                 self.check_final(out);
                 py::list l;
                 for (auto v : out) l.append(verdict_tuple(v));
                 return l;
             })
        .def("allowed_tools",
             [](const GuardMonitor& self, const std::vector<std::string>& names) {
                 std::vector<std::string> out;
                 for (const auto& n : names) out.push_back(tool_allowance_name(self.allowed_tool(n)));
                 return out;
             })
        .def("argument_constraints",
             [](const GuardMonitor& self, const std::string& tool) {
                 py::list l;
                 for (const auto& c : self.argument_constraints(tool))
                     l.append(py::make_tuple(c.argument, c.op, c.literal_json, c.rule));
                 return l;
             })
        .def_property_readonly("trace_length", &GuardMonitor::trace_length);

    m.def(
        "time_guard",
        [](const std::shared_ptr<GuardPolicy>& policy,
           const std::vector<std::tuple<int, std::string, std::optional<std::string>, std::string>>& events,
           const std::vector<std::string>& tools, int rounds) {
            std::vector<std::unique_ptr<PyGuardEvent>> owned;
            std::vector<GuardEvent> views;
            for (const auto& [kind, name, value, text] : events) {
                owned.push_back(std::make_unique<PyGuardEvent>(kind, name, value, text));
                views.push_back(owned.back()->event);
            }
            GuardTimings t;
            {
                py::gil_scoped_release release;
                t = time_guard(policy, views, tools, rounds);
            }
            return py::make_tuple(t.step_ns, t.allowed_tools_ns);
        },
        py::arg("policy"), py::arg("events"), py::arg("tools"), py::arg("rounds"));
    // Sampling over logits computed elsewhere (ONNX Runtime). `step` reads the numpy
    // array's buffer in place (float32, C-contiguous): no copy.
    py::class_<LogitsSession>(m, "LogitsSession")
        .def(py::init([](std::shared_ptr<Model> vocab, const GenerateParams& params, int32_t prompt_tokens,
                         PyMatcher* grammar, int32_t cached_tokens) {
                 if (grammar != nullptr && grammar->compiled->vocab() != vocab->grammar_vocabulary())
                     throw InvalidArgument("this grammar was compiled for another model's vocabulary");
                 return new LogitsSession(std::move(vocab), params, prompt_tokens,
                                          grammar ? &grammar->matcher : nullptr, cached_tokens);
             }),
             py::arg("vocab"), py::arg("params"), py::arg("prompt_tokens"), py::arg("grammar") = nullptr,
             py::arg("cached_tokens") = 0,
             py::keep_alive<1, 5>())
        .def("step",
             [](LogitsSession& self, py::buffer logits) {
                 auto [data, n] = last_logits_row(logits);
                 py::gil_scoped_release release;
                 return self.step(data, n);
             },
             py::arg("logits"))
        .def("pass_gate",
             [](LogitsSession& self, py::buffer logits) {
                 auto [data, n] = last_logits_row(logits);
                 return self.pass_gate(data, n);
             },
             py::arg("logits"))
        .def_property_readonly("done", &LogitsSession::done)
        .def("take_text", [](LogitsSession& self) { return to_bytes(self.take_text()); })
        .def("stop", &LogitsSession::stop)
        .def("finish", &LogitsSession::finish);

    py::class_<Session>(m, "Session")
        .def(py::init<std::shared_ptr<Model>, const SessionParams&>(), py::arg("model"), py::arg("params"),
             py::call_guard<py::gil_scoped_release>())
        .def("set_prefill_model", &Session::set_prefill_model, py::arg("model"),
             py::call_guard<py::gil_scoped_release>())
        .def(
            "generate",
            [](Session& self, const std::vector<Token>& prompt, const GenerateParams& params, py::object on_text,
               PyMatcher* grammar) {
                if (grammar != nullptr && grammar->compiled->vocab() != self.model()->grammar_vocabulary()) {
                    throw InvalidArgument("this grammar was compiled for another model's vocabulary");
                }
                TokenCallback cb;
                if (!on_text.is_none()) {
                    // Called from the decode loop without the GIL: take it for the Python call.
                    // A Python exception in the callback cancels generation and is re-raised.
                    cb = [&on_text](const std::string& text) {
                        py::gil_scoped_acquire gil;
                        py::object r = on_text(py::bytes(text.data(), text.size()));
                        return r.is_none() || r.cast<bool>();
                    };
                }
                py::gil_scoped_release release;
                return self.generate(prompt, params, cb, grammar ? &grammar->matcher : nullptr);
            },
            py::arg("prompt"), py::arg("params"), py::arg("on_text") = py::none(), py::arg("grammar") = nullptr)
        .def(
            "all_logits",
            [](Session& self, const std::vector<Token>& tokens) {
                auto owned = std::make_unique<std::vector<float>>();
                {
                    py::gil_scoped_release release;
                    *owned = self.all_logits(tokens);
                }
                auto* v = owned.release();
                const int32_t n_vocab = self.model()->n_vocab();
                py::capsule owner(v, [](void* p) { delete static_cast<std::vector<float>*>(p); });
                return py::array_t<float>({static_cast<py::ssize_t>(tokens.size()), static_cast<py::ssize_t>(n_vocab)},
                                          v->data(), owner);
            },
            py::arg("tokens"), "Logits at every position of `tokens` (n × n_vocab float32), from an empty cache.")
        .def("reset", &Session::reset)
        .def_property_readonly("cached_tokens", &Session::cached_tokens)
        .def_property_readonly("n_ctx", &Session::n_ctx);
}
