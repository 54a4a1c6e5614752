"""The speed and memory benchmark (`make bench`, `python -m bench`), split by job:

- `cases`: what is measured, on which seeded inputs (scripts/testdata), against which floor and target;
- `services`: moto's server and the CloudZero emulator, in a process of their own;
- `stage`: a fresh stack from template.yaml and the upload (or the month message) for one run;
- `paths`: the splitter's and the pusher's whole path, as Lambda runs them, inside a measured child;
- `floors`: the least any reader must do with the same file (csv.reader, pyarrow group-by);
- `child`: the entry point of every child process (`python -m bench.child`), optionally under memray;
- `measure`: running a child and reading the kernel's account of it; cold starts from -X importtime;
- `runtime_env`: the handlers' runtime-only environment (only the requirements files and boto3, laid
  out and compiled as `make build` ships them, cached in .bench-cache/) and each package's size;
- `report`: the table and the JSON; `cli`: the command.

How it measures, and why so:
- Every measurement is a fresh interpreter. Wall and CPU seconds come from `time.perf_counter` and
  `time.process_time` around the handler invocation; cold start is `python -X importtime -c "import app"`
  run with `-S` against the runtime-only environment, so no package of the dev venv is importable.
- Peak memory is the process's peak resident set (`ru_maxrss`, from `os.wait4` on the exited child):
  what Lambda reports as Max Memory Used and what MemorySize limits. memray was evaluated for it and
  is kept for diagnosis only (`--memray DIR`: a capture per path for `memray flamegraph`): its peak
  counts address space that allocators map but never touch (pyarrow's mimalloc: 1,058 MiB reported
  for a Parquet read that was 196 MiB resident), and tracking slows the run. psutil has no peak
  resident figure (it samples the current one), so it would add a dependency and miss short peaks.
- pytest-benchmark is for microbenchmarks: it calibrates rounds of a function called many times in
  pytest's own process. These are whole-process runs of seconds to minutes, each needing a fresh
  interpreter, moto's server and a fresh stack (a second call of the same upload is a duplicate),
  and the team keeps the benchmark out of `make test`.
- S3, SQS and DynamoDB are moto's server, CloudZero is the emulator: both in a process of their own
  (`services`), so what they hold and the CPU they spend count for no function, as in AWS.
"""
