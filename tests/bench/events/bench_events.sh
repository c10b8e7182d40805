#!/usr/bin/env bash
# The event bus's cost per event with a healthy and with a stalled sink, against the registry
# alone. usage: bench_events.sh BUILD_DIR
set -euo pipefail
"$1/tests/bench/events/bench_events"
