# edgeagent behaviour guards: policy parser/compiler and runtime monitor (a static
# library over the grammar engine, whose regex dialect `matches` uses) plus its tests.
# Included by the top-level CMakeLists.txt after grammar.cmake: include(native/guard.cmake)
#   edgeagent_guard        STATIC library
#   edgeagent_guard_tests  test executable (ctest: edgeagent_guard_tests)
set(EDGEAGENT_GUARD_DIR ${CMAKE_CURRENT_LIST_DIR})

add_library(edgeagent_guard STATIC
  ${EDGEAGENT_GUARD_DIR}/src/guard/parser.cpp
  ${EDGEAGENT_GUARD_DIR}/src/guard/progression.cpp
  ${EDGEAGENT_GUARD_DIR}/src/guard/monitor.cpp
  ${EDGEAGENT_GUARD_DIR}/src/guard/regex_matcher.cpp
  ${EDGEAGENT_GUARD_DIR}/src/guard/timing.cpp
)
target_include_directories(edgeagent_guard PUBLIC ${EDGEAGENT_GUARD_DIR}/include
                                           PRIVATE ${EDGEAGENT_GUARD_DIR}/src/guard ${EDGEAGENT_GUARD_DIR}/src/grammar)
target_link_libraries(edgeagent_guard PUBLIC edgeagent_grammar)
set_target_properties(edgeagent_guard PROPERTIES POSITION_INDEPENDENT_CODE ON CXX_EXTENSIONS OFF)
target_compile_options(edgeagent_guard PRIVATE -O2 -Wall -Wextra)

add_executable(edgeagent_guard_tests ${EDGEAGENT_GUARD_DIR}/tests/guard/test_guard.cpp)
target_link_libraries(edgeagent_guard_tests PRIVATE edgeagent_guard)
target_compile_options(edgeagent_guard_tests PRIVATE -O2)
add_test(NAME edgeagent_guard_tests COMMAND edgeagent_guard_tests)
