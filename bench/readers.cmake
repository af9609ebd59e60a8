# Read-only handles against the writer's (docs/micro-benchmarks.md,
# "Readers"). Included from bench/CMakeLists.txt. Neither is a test:
# readers_bench is a Google Benchmark binary with its own main (it loads a
# database first), held_reader_log a plain program that runs for minutes.
add_executable(readers_bench readers_bench.cc)
target_compile_options(readers_bench PRIVATE ${SOMBRA_WARNINGS})
target_link_libraries(readers_bench PRIVATE sombra benchmark::benchmark)

add_executable(held_reader_log held_reader_log.cc)
target_compile_options(held_reader_log PRIVATE ${SOMBRA_WARNINGS})
target_link_libraries(held_reader_log PRIVATE sombra)
