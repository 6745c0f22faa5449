# edgeagent native grammar engine: a self-contained C++17 static library plus its tests.
# Included by the top-level CMakeLists.txt: include(native/grammar.cmake)
#   edgeagent_grammar        STATIC library (JSON parser, JSON Schema / GBNF / regex
#                            compilers, pushdown automaton, token-mask matcher, tool envelopes)
#   edgeagent_grammar_tests  test executable (ctest: edgeagent_grammar_tests,
#                            edgeagent_grammar_json_schema_suite when the suite is present)
set(EDGEAGENT_GRAMMAR_DIR ${CMAKE_CURRENT_LIST_DIR})

add_library(edgeagent_grammar STATIC
  ${EDGEAGENT_GRAMMAR_DIR}/src/grammar/json.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/src/grammar/ir.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/src/grammar/vocab.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/src/grammar/matcher.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/src/grammar/ebnf.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/src/grammar/regex.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/src/grammar/schema.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/src/grammar/tools.cpp
)
target_include_directories(edgeagent_grammar PUBLIC ${EDGEAGENT_GRAMMAR_DIR}/include
                                             PRIVATE ${EDGEAGENT_GRAMMAR_DIR}/src/grammar)
target_compile_features(edgeagent_grammar PUBLIC cxx_std_17)
set_target_properties(edgeagent_grammar PROPERTIES POSITION_INDEPENDENT_CODE ON CXX_EXTENSIONS OFF)
target_compile_options(edgeagent_grammar PRIVATE -O2)
find_package(Threads)
if(Threads_FOUND)
  target_link_libraries(edgeagent_grammar PUBLIC Threads::Threads)
endif()

add_executable(edgeagent_grammar_tests
  ${EDGEAGENT_GRAMMAR_DIR}/tests/grammar/test_main.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/tests/grammar/test_json.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/tests/grammar/test_grammar.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/tests/grammar/test_schema.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/tests/grammar/test_matcher.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/tests/grammar/suite.cpp
  ${EDGEAGENT_GRAMMAR_DIR}/tests/grammar/bench.cpp
)
target_link_libraries(edgeagent_grammar_tests PRIVATE edgeagent_grammar)
target_compile_options(edgeagent_grammar_tests PRIVATE -O2)

if(NOT DEFINED EDGEAGENT_JSON_SCHEMA_SUITE)
  get_filename_component(_ea_suite "${EDGEAGENT_GRAMMAR_DIR}/../../shared/bench/json-schema-test-suite/draft2020-12" ABSOLUTE)
  set(EDGEAGENT_JSON_SCHEMA_SUITE "${_ea_suite}" CACHE PATH "JSON-Schema-Test-Suite draft2020-12 directory")
endif()
add_test(NAME edgeagent_grammar_tests COMMAND edgeagent_grammar_tests)
if(EXISTS "${EDGEAGENT_JSON_SCHEMA_SUITE}")
  add_test(NAME edgeagent_grammar_json_schema_suite
           COMMAND edgeagent_grammar_tests --suite "${EDGEAGENT_JSON_SCHEMA_SUITE}")
endif()
