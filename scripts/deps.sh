# scripts/deps.sh - sourced by scripts/quickstart and scripts/test-all:
# installs what the build, the tests and the demo need, with apt-get, when
# anything is missing.  Debian 12 package names.

UK_DEPS="autoconf automake make gcc pkg-config libc6-dev
	libjson-c-dev libsodium-dev libssl-dev libcurl4-openssl-dev
	libsqlite3-dev libmicrohttpd-dev
	minisign mandoc clang libclang-rt-14-dev openssl tar xz-utils python3
	qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients
	libvirt-dev libxen-dev cpio binutils
	dnsmasq-base iputils-ping iproute2"

deps_missing() {
	local p missing=""
	for p in $UK_DEPS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	echo "$missing"
}

deps_install() {
	local missing sudo=""
	missing=$(deps_missing)
	[ -z "$missing" ] && return 0
	echo "==> installing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 || {
			echo "error: need root (or sudo) to install:$missing" >&2
			return 1
		}
		sudo="sudo"
	fi
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing </dev/null
}
