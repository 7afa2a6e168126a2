#!/bin/sh
# The rooms of the source (README.md, "Layout of the source") and the one
# way their includes go: each room may include only what lies below it
# (api/ and cache/ at the bottom, side by side, fs/main.c at the top).
# Prints every include that runs back up and exits 1; silent and 0 when
# the house is sound.
#
#   fs/main.c, options, log   anything below
#   fs/fuse/                  model, text, log, cache, api, libfuse
#   fs/model/                 text, log, cache, api; no FUSE header
#   fs/text/                  api's types only; no state, no FUSE, no I/O
#   cache/                    nothing of fs/, api/ or FUSE
#   api/                      nothing of fs/, cache/ or FUSE
cd "$(dirname "$0")/.." || exit 2
bad=0

# refuse ROOM PATTERN WHY: no file of ROOM includes a header matching PATTERN
refuse() {
	hits=$(grep -nE "^#[[:space:]]*include[[:space:]]*[<\"]($2)" $1 2>/dev/null)
	[ -z "$hits" ] && return
	printf '%s\n' "$hits" | sed "s|\$|   <- $3|"
	bad=1
}

refuse "api/*.c api/*.h" "fuse|\.\./fs/|\.\./cache/|\.\./\.\./" "api/ knows HTTP and JSON only"
refuse "cache/*.c cache/*.h" "fuse|\.\./fs/|\.\./api/|\.\./\.\./" "cache/ knows keys and bytes only"
refuse "fs/text/*.c fs/text/*.h" "fuse|\.\./model/|\.\./fuse/|\.\./log\.h|\.\./options\.h|\.\./\.\./cache/|curl" "text/ is pure"
refuse "fs/model/*.c fs/model/*.h" "fuse|\.\./fuse/|\.\./options\.h|curl" "model/ knows no FUSE"
refuse "fs/fuse/*.c fs/fuse/*.h" "\.\./options\.h|\.\./main" "fuse/ is below main"
refuse "fs/log.c fs/log.h" "fuse|model/|text/|\.\./" "log is a leaf"
[ $bad -eq 0 ] || echo "check-layers: an include runs back up (see tests/check_layers.sh)"
exit $bad
