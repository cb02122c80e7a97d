#!/bin/sh
# Which src/ files call into which (from the objects' defined and undefined symbols), and whether any two
# depend on each other both ways. OBJ names the object directory (default build/obj/src).
# Prints one line per two-way pair and exits 1 if there is one; -v prints every edge as well.
set -eu
OBJ=${OBJ:-build/obj/src}
verbose=0
[ "${1:-}" = -v ] && verbose=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
find "$OBJ" -name '*.o' | sort > "$tmp/objs"
[ -s "$tmp/objs" ] || { echo "layers: no objects under $OBJ (build first)" >&2; exit 2; }
while read -r o; do
    f=${o#"$OBJ"/}
    nm -g --defined-only "$o" | awk -v f="$f" 'NF == 3 { print $3, f }'
done < "$tmp/objs" | sort > "$tmp/defs"
while read -r o; do
    f=${o#"$OBJ"/}
    nm -u "$o" | awk -v f="$f" '{ print $NF, f }'
done < "$tmp/objs" | sort > "$tmp/uses"
# edge: user -> definer
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 { print $2, $3 }' | sort -u > "$tmp/edges"
[ $verbose = 1 ] && sed 's/ / -> /' "$tmp/edges"
awk '{ e[$1 " " $2] = 1 } END { for (k in e) { split(k, p, " "); if ((p[2] " " p[1]) in e && p[1] < p[2]) print "two-way: " p[1] " <-> " p[2] } }' \
    "$tmp/edges" | sort > "$tmp/cycles"
n=$(wc -l < "$tmp/edges")
c=$(wc -l < "$tmp/cycles")
cat "$tmp/cycles"
echo "layers: $(wc -l < "$tmp/objs") files, $n dependencies, $c two-way pairs"
[ "$c" = 0 ]
