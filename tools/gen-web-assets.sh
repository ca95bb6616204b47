#!/bin/sh
# Embed the web viewer's page assets (src/web/assets/*) into the binary: prints a
# C file with one byte array per file and the table `web_assets` (path, MIME type).
set -eu
dir=$1
i=0
table=""
for f in "$dir"/*; do
	name=$(basename "$f")
	case $name in
	*.html) type="text/html; charset=utf-8" ;;
	*.css) type="text/css; charset=utf-8" ;;
	*.js) type="text/javascript; charset=utf-8" ;;
	*.svg) type="image/svg+xml" ;;
	*.png) type="image/png" ;;
	*) type="application/octet-stream" ;;
	esac
	echo "static const unsigned char web_asset_$i[] = {"
	od -An -v -tx1 "$f" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
	echo "0};"
	table="$table	{\"/$name\", \"$type\", web_asset_$i, sizeof(web_asset_$i) - 1},
"
	i=$((i + 1))
done
echo "static const struct asset web_assets[] = {"
printf '%s' "$table"
echo "};"
