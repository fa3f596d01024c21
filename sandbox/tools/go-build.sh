# Sourced by the build-*.sh scripts: builds one command of a Go module into a cache outside the
# work tree. The build runs inside the module as the proxy serves it, so its own go.mod and go.sum
# pin every dependency (`-mod=readonly`: nothing is resolved anew, nothing upgraded).
#
#   go_build NAME MODULE@VERSION PACKAGE LDFLAGS DEST DURATION INSTALL_HINT
#
# prints DEST/NAME, building it unless it is there; DURATION is what the progress line promises.
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0
# GOWORK=off: a module may ship a go.work naming sub-modules the proxy's zip leaves out.
export GOWORK=off

go_build() {
  local name=$1 module=$2 package=$3 ldflags=$4 dest=$5 duration=$6 hint=$7 started src total
  say() { echo "$name: $*" >&2; }
  mkdir -p "$dest"
  # Two test workers may ask at once: the second waits, then finds the binary.
  exec 9>"$dest/.lock"
  flock 9
  if [ -x "$dest/$name" ]; then echo "$dest/$name"; return; fi
  if ! command -v go >/dev/null; then
    say "Go is not installed. Install Go >= 1.26 (https://go.dev/dl/) to build $name, or $hint."
    exit 3
  fi
  started=$(date +%s)
  say "downloading $module from the Go module proxy ..."
  src=$(GOFLAGS=-mod=mod go mod download -json "$module" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  say "fetching the modules $package imports ..."
  total=$(cd "$src" && go list -deps "$package" | wc -l)
  say "building $name into $dest: up to $total packages: $duration ..."
  # -v names each package as it compiles (cached ones are not): a count every 50 is the progress,
  # the log keeps the rest.
  if ! (cd "$src" && go build -v -trimpath -ldflags "-s -w $ldflags" -o "$dest/$name.part" "$package") 2>&1 |
      tee "$dest/build.log" | awk -v name="$name" '++n % 50 == 0 { print name ": " n " packages compiled"; fflush() }' >&2
  then
    say "build failed; the end of $dest/build.log:"
    tail -n 30 "$dest/build.log" >&2
    exit 1
  fi
  mv "$dest/$name.part" "$dest/$name"
  say "built in $(( $(date +%s) - started ))s"
  echo "$dest/$name"
}
