# The two set-up commands of the README, and helpers. Each target installs what is missing first
# (idempotent: a second run skips the install in a second or two), so each works on its own on a
# fresh Debian 12 machine with the Rust toolchain (as root).

APT_PACKAGES := mesa-vulkan-drivers libvulkan1 libhdf5-dev hdf5-tools pkg-config
CONFIG ?= configs/sn_hard_carbon.toml

.PHONY: run test bench deps device-bundle

## Install what is missing, build, and run the main job: the buffered-vs-pristine comparison
## of CONFIG (outputs/<run-name>_compare/).
run: deps
	cargo run --release -- compare $(CONFIG)

## Install what is missing and run the whole test suite.
test: deps
	cargo test --release

## CPU benchmark against the NumPy/SciPy peer (docs/benchmarks.md).
bench: deps
	python3 -c "import numpy, scipy" 2>/dev/null || pip install -q numpy scipy
	cargo run --release -- bench

## Build the release binary and the GPU test binaries into .gl/ (ignored) for a machine with a
## real GPU; run scripts/device-check there (docs/benchmarks.md).
device-bundle: deps
	cargo build --release
	mkdir -p .gl/tests
	cp target/release/swellfield .gl/
	cargo test --release --no-run --message-format=json 2>/dev/null \
	  | python3 -c 'import json,sys; [print(m["executable"]) for m in map(json.loads, sys.stdin) if m.get("executable") and m["target"]["name"] in ("gpu_system","gpu_verification","kernels","gpu_fft","backends_agree","shaders")]' \
	  | xargs -I{} cp {} .gl/tests/

deps:
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust >= 1.88 (rustup.rs), then rerun" >&2; exit 1; }
	@dpkg -s $(APT_PACKAGES) >/dev/null 2>&1 || { \
		echo "installing $(APT_PACKAGES)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(APT_PACKAGES) >/dev/null; }
