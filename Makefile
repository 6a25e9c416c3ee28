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

## Everything scripts/device-check needs on a machine with a real GPU and no network, into the
## ignored .gl/ (../shared/toolchain.md §6): the release binary, the GPU test binaries worth the
## device's minutes, the Vulkan loader and HDF5 packages (downloaded once), and a copy of the
## PyTorch peer. The binaries go stripped into one xz archive (about 25 MB: the device call
## carries at most 64 MiB). Carry .gl/ along and run scripts/device-check there (docs/benchmarks.md).
DEVICE_TESTS := gpu_fft kernels shaders gpu_solvers gpu_verification backends_agree gpu_system gpu_convex_split
device-bundle: deps
	cargo build --release
	rm -rf .gl/bin && mkdir -p .gl/bin/tests .gl/h5 .gl/peers
	cp target/release/swellfield .gl/bin/
	cargo test --release --no-run --message-format=json 2>/dev/null \
	  | python3 -c 'import json,sys; [print(m["executable"]) for m in map(json.loads, sys.stdin) if m.get("executable") and m["target"]["name"] in "$(DEVICE_TESTS)".split()]' \
	  | xargs -I{} cp {} .gl/bin/tests/
	strip .gl/bin/swellfield .gl/bin/tests/*
	tar -cJf .gl/bin.tar.xz -C .gl bin && rm -rf .gl/bin
	cp ../shared/peers/torch_chel.py .gl/peers/
	ls .gl/libvulkan1_*.deb >/dev/null 2>&1 || { \
	  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'; \
	  mkdir -p /tmp/amd64/partial && apt-get $$o update -qq \
	  && (cd .gl && apt-get $$o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2) \
	  && (cd .gl/h5 && apt-get $$o download libhdf5-103-1 libsz2 libaec0 libcurl4); }

deps:
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust >= 1.88 (rustup.rs), then rerun" >&2; exit 1; }
	@dpkg -s $(APT_PACKAGES) >/dev/null 2>&1 || { \
		echo "installing $(APT_PACKAGES)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(APT_PACKAGES) >/dev/null; }
