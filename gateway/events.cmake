# Typed events, the metrics registry and the parent-proxy wire format: no system calls beyond
# the sinks' file writes, linkable by the daemon, its tests and the fuzz targets alike.
add_library(modgate_events STATIC
  ${CMAKE_CURRENT_LIST_DIR}/events/catalogue.cpp
  ${CMAKE_CURRENT_LIST_DIR}/events/events.cpp
  ${CMAKE_CURRENT_LIST_DIR}/events/bus.cpp
  ${CMAKE_CURRENT_LIST_DIR}/events/sink.cpp
  ${CMAKE_CURRENT_LIST_DIR}/events/format.cpp
  ${CMAKE_CURRENT_LIST_DIR}/metrics/registry.cpp
  ${CMAKE_CURRENT_LIST_DIR}/privsep/wire.cpp
)
target_include_directories(modgate_events PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(modgate_events PUBLIC modgate_policy fmt::fmt nlohmann_json::nlohmann_json Threads::Threads)
