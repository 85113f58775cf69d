#!/usr/bin/env bash
# Makes the test fixtures of the metadata crate (metadata/tests/fixtures/) with real
# producers: LibreOffice (ODT, DOCX, XLSX, PPTX, PDF), qpdf, libjpeg-turbo's cjpeg,
# libwebp's cwebp and exiftool (EXIF, GPS, XMP, IPTC). The fixtures are committed: the
# tests only read them (and need exiftool to check them, not LibreOffice).
# Usage: scripts/make-metadata-fixtures.sh   (installs what it needs with apt)
set -euo pipefail
cd "$(dirname "$0")/.."
out=metadata/tests/fixtures
mkdir -p "$out"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
[ -e /usr/lib/libreoffice/program/libsclo.so ] || missing+=(libreoffice-calc-nogui)
[ -e /usr/lib/libreoffice/program/libsdlo.so ] || missing+=(libreoffice-impress-nogui)
command -v exiftool >/dev/null 2>&1 || missing+=(libimage-exiftool-perl)
command -v cjpeg >/dev/null 2>&1 || missing+=(libjpeg-turbo-progs)
command -v cwebp >/dev/null 2>&1 || missing+=(webp)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v zip >/dev/null 2>&1 || missing+=(zip)
command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private LibreOffice profile, so the machine's user name and settings stay out.
lo() { soffice -env:UserInstallation="file://$work/profile" --headless "$@" >/dev/null 2>&1; }

# ---------------------------------------------------------------- pictures
python3 - "$work" <<'PY'
import struct, sys, zlib
w, h = 64, 48
d = sys.argv[1]
pixels = bytes(v for y in range(h) for x in range(w) for v in ((x * 4) % 256, (y * 5) % 256, ((x + y) * 3) % 256))
open(f"{d}/base.ppm", "wb").write(b"P6\n%d %d\n255\n" % (w, h) + pixels)
open(f"{d}/thumb.ppm", "wb").write(b"P6\n8 6\n255\n" + bytes(8 * 6 * 3))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
raw = b"".join(b"\0" + pixels[y * w * 3:(y + 1) * w * 3] for y in range(h))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
png += chunk(b"gAMA", struct.pack(">I", 45455))
png += chunk(b"tEXt", b"Author\0Jan Jansen")
png += chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"Scanned at the office of Jan Jansen"))
png += chunk(b"tIME", struct.pack(">HBBBBB", 2026, 11, 23, 9, 30, 0))
png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(f"{d}/base.png", "wb").write(png)
# A baseline TIFF: 8x8 RGB, uncompressed, one strip.
tw = th = 8
img = bytes((x * 30) % 256 for x in range(tw * th * 3))
entries = [(256, 3, 1, tw), (257, 3, 1, th), (258, 3, 3, 0), (259, 3, 1, 1), (262, 3, 1, 2),
           (273, 4, 1, 0), (277, 3, 1, 3), (278, 3, 1, th), (279, 4, 1, len(img))]
ifd_at = 8
after = ifd_at + 2 + 12 * len(entries) + 4
bps_at, img_at = after, after + 6
out = b"II*\0" + struct.pack("<I", ifd_at) + struct.pack("<H", len(entries))
for tag, typ, count, val in entries:
    if tag == 258: val = bps_at
    if tag == 273: val = img_at
    out += struct.pack("<HHI", tag, typ, count) + (struct.pack("<HH", val, 0) if typ == 3 else struct.pack("<I", val))
out += struct.pack("<I", 0) + struct.pack("<HHH", 8, 8, 8) + img
open(f"{d}/base.tif", "wb").write(out)
PY
cjpeg -quality 85 -outfile "$work/base.jpg" "$work/base.ppm"
cjpeg -quality 50 -outfile "$work/thumb.jpg" "$work/thumb.ppm"
cwebp -quiet -q 80 "$work/base.ppm" -o "$work/base.webp"

camera=(-Artist="Jan Jansen" -Copyright="(c) Jan Jansen" -OwnerName="Jan Jansen"
  -SerialNumber="SN-4711-0815" -LensSerialNumber="LS-0042" -Make="Canon" -Model="Canon EOS 5D"
  -Software="Firmware 1.2.3" -HostComputer="LAPTOP-JJANSEN" -DateTimeOriginal="2026:11:23 09:30:00"
  -ImageUniqueID="0123456789abcdef0123456789abcdef" -ImageDescription="Kantoor Den Haag"
  -GPSLatitude=52.0799 -GPSLatitudeRef=N -GPSLongitude=4.3113 -GPSLongitudeRef=E
  -XMP-dc:Creator="Jan Jansen" -XMP-xmp:CreatorTool="Photo Editor 9")

cp "$work/base.jpg" "$out/photo.jpg"
exiftool -q -overwrite_original "${camera[@]}" -Orientation#=6 \
  -IPTC:By-line="Jan Jansen" -IPTC:City="Den Haag" -Comment="Taken by Jan Jansen" \
  "-ThumbnailImage<=$work/thumb.jpg" "$out/photo.jpg"

cp "$work/base.png" "$out/photo.png"
exiftool -q -overwrite_original "${camera[@]}" "$out/photo.png"

cp "$work/base.webp" "$out/photo.webp"
exiftool -q -overwrite_original "${camera[@]}" "$out/photo.webp"

cp "$work/base.tif" "$out/photo.tif"
exiftool -q -overwrite_original -Artist="Jan Jansen" -SerialNumber="SN-4711-0815" \
  -GPSLatitude=52.0799 -GPSLatitudeRef=N -GPSLongitude=4.3113 -GPSLongitudeRef=E "$out/photo.tif"

# ---------------------------------------------------------------- documents
# A flat ODT written by hand: author fields, a user-defined field, a printer, a tracked
# insertion and deletion by another person, and a comment by a third.
cat > "$work/memo.fodt" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0"
 xmlns:ooo="http://openoffice.org/2004/office"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:meta>
  <meta:initial-creator>Jan Jansen</meta:initial-creator>
  <dc:creator>Piet Pietersen</dc:creator>
  <meta:creation-date>2026-11-20T08:15:00</meta:creation-date>
  <dc:date>2026-11-23T09:30:00</dc:date>
  <meta:editing-duration>PT2H13M</meta:editing-duration>
  <meta:editing-cycles>7</meta:editing-cycles>
  <dc:title>Interne notitie dossier 4711</dc:title>
  <dc:subject>Onderzoek</dc:subject>
  <meta:keyword>fraude</meta:keyword>
  <dc:description>Concept voor de afdelingsleiding</dc:description>
  <meta:user-defined meta:name="Afdeling">Fraudeonderzoek kamer 3.14</meta:user-defined>
  <meta:printed-by>Jan Jansen</meta:printed-by>
  <meta:print-date>2026-11-22T17:00:00</meta:print-date>
 </office:meta>
 <office:settings>
  <config:config-item-set config:name="ooo:configuration-settings">
   <config:config-item config:name="PrinterName" config:type="string">HP-LaserJet-Kamer-3.14</config:config-item>
   <config:config-item config:name="PrinterIndependentLayout" config:type="string">high-resolution</config:config-item>
  </config:config-item-set>
 </office:settings>
 <office:body>
  <office:text>
   <text:tracked-changes>
    <text:changed-region xml:id="ct1" text:id="ct1">
     <text:insertion>
      <office:change-info><dc:creator>Klaas Klaassen</dc:creator><dc:date>2026-11-22T10:00:00</dc:date></office:change-info>
     </text:insertion>
    </text:changed-region>
    <text:changed-region xml:id="ct2" text:id="ct2">
     <text:deletion>
      <office:change-info><dc:creator>Klaas Klaassen</dc:creator><dc:date>2026-11-22T10:05:00</dc:date></office:change-info>
      <text:p>oude zin</text:p>
     </text:deletion>
    </text:changed-region>
   </text:tracked-changes>
   <text:p>De betaling van 12.000 euro is op 3 november goedgekeurd<text:change-start text:change-id="ct1"/> zonder tweede handtekening<text:change-end text:change-id="ct1"/>.<text:change text:change-id="ct2"/></text:p>
   <text:p>Het dossier<office:annotation><dc:creator>Marie Maas</dc:creator><dc:date>2026-11-22T11:00:00</dc:date><text:p>Klopt dit bedrag?</text:p></office:annotation> ligt bij de teamleider.</text:p>
  </office:text>
 </office:body>
</office:document>
XML
lo --convert-to odt --outdir "$work" "$work/memo.fodt"
lo --convert-to docx --outdir "$work" "$work/memo.fodt"
lo --convert-to 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"1"},"ExportNotes":{"type":"boolean","value":"true"}}' --outdir "$work" "$work/memo.fodt"
cp "$work/memo.odt" "$out/memo.odt"
cp "$work/memo.docx" "$out/memo.docx"
cp "$work/memo.pdf" "$out/memo.pdf"
# The same PDF with object streams and a cross-reference stream, as most current PDF
# writers make them (the Info dictionary then sits compressed in an object stream).
qpdf --object-streams=generate "$out/memo.pdf" "$out/memo-objstm.pdf"
# A hybrid PDF carries its ODF source as an embedded file.
mkdir -p "$work/hybrid"
lo --convert-to 'pdf:writer_pdf_Export:{"IsAddStream":{"type":"boolean","value":"true"}}' --outdir "$work/hybrid" "$work/memo.fodt"
cp "$work/hybrid/memo.pdf" "$out/memo-hybrid.pdf"

# A spreadsheet with a comment.
cat > "$work/sheet.fods" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
 <office:meta>
  <meta:initial-creator>Jan Jansen</meta:initial-creator>
  <dc:creator>Piet Pietersen</dc:creator>
  <dc:title>Betalingen november</dc:title>
 </office:meta>
 <office:body>
  <office:spreadsheet>
   <table:table table:name="Betalingen">
    <table:table-row>
     <table:table-cell office:value-type="string"><text:p>Bedrag</text:p></table:table-cell>
     <table:table-cell office:value-type="float" office:value="12000"><office:annotation><dc:creator>Marie Maas</dc:creator><dc:date>2026-11-22T11:00:00</dc:date><text:p>Zonder tweede handtekening</text:p></office:annotation><text:p>12000</text:p></table:table-cell>
    </table:table-row>
   </table:table>
  </office:spreadsheet>
 </office:body>
</office:document>
XML
lo --convert-to xlsx --outdir "$work" "$work/sheet.fods"
cp "$work/sheet.xlsx" "$out/sheet.xlsx"

# A presentation with a comment.
cat > "$work/slides.fodp" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 xmlns:officeooo="http://openoffice.org/2009/office"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.presentation">
 <office:meta>
  <meta:initial-creator>Jan Jansen</meta:initial-creator>
  <dc:creator>Piet Pietersen</dc:creator>
 </office:meta>
 <office:body>
  <office:presentation>
   <draw:page draw:name="page1">
    <draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="3cm"><draw:text-box><text:p>Betalingen november</text:p></draw:text-box></draw:frame>
    <officeooo:annotation svg:x="1cm" svg:y="1cm" svg:width="1cm" svg:height="1cm"><dc:creator>Marie Maas</dc:creator><dc:date>2026-11-22T11:00:00</dc:date><text:p>Bron?</text:p></officeooo:annotation>
   </draw:page>
  </office:presentation>
 </office:body>
</office:document>
XML
lo --convert-to pptx --outdir "$work" "$work/slides.fodp"
cp "$work/slides.pptx" "$out/slides.pptx"

# ---------------------------------------------------------------- an archive
# Pictures, a document, notes, an e-mail (which cannot be checked) and a nested archive,
# with an archive comment naming the author.
mkdir -p "$work/arch/inner" "$work/arch/outer"
cp "$out/photo.png" "$work/arch/inner/"
(cd "$work/arch/inner" && zip -q -X ../outer/inner.zip photo.png)
cp "$out/photo.jpg" "$out/memo.docx" "$work/arch/outer/"
printf 'Notes for the report.\n' > "$work/arch/outer/notes.txt"
printf 'From: Jan Jansen <jan@example.org>\nTo: piet@example.org\nSubject: dossier 4711\nDate: Mon, 23 Nov 2026 09:30:00 +0100\n\nSee attachment.\n' > "$work/arch/outer/mail.eml"
(cd "$work/arch/outer" && zip -q -X -z ../../bundle.zip photo.jpg memo.docx notes.txt mail.eml inner.zip <<<"packed by Jan Jansen")
cp "$work/bundle.zip" "$out/bundle.zip"

ls -l "$out"
