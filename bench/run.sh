#!/bin/sh
# make bench: run the benchmark binary (REPS sets the repetitions; 5 by default).
set -eu
BUILD=${BUILD:-build}
exec "$BUILD/bench/vmcbench" "${REPS:-5}"
