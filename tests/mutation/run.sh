#!/usr/bin/env bash
# Mutation testing, by hand (never in CI): mutmut 2.5.1 on the modules where a wrong result is silent.
#
#   pip install -e '.[mutation]'
#   tests/mutation/run.sh                      # every module listed below, one after the other
#   tests/mutation/run.sh relationships uid    # only these (names from the list below)
#   FORKED=1 tests/mutation/run.sh rle         # mutants run by tests/mutation/forked.py (one interpreter,
#                                              # a forked child per mutant: several times faster under load)
#   FORKED=1 SHUFFLE=7 tests/mutation/run.sh encode   # ... in a random order (seed 7): a run cut short has
#                                              # measured a fair sample
#
# Each module is mutated in its own scratch copy of the checkout ($MUTATION_WORK/<name>/wt, default
# /tmp/dcmspec-mutation), never in the checkout itself; `dcmspec_compiler` is imported from that copy
# (PYTHONPATH), and each mutant runs the module's focused tests below (-x: the first failure kills it).
# Results: $MUTATION_WORK/<name>/results.txt (mutmut results) and summary.txt (killed/survived/timeout).
# tests/MUTATION.md records the scores and the surviving mutants that are equivalent.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${MUTATION_WORK:-/tmp/dcmspec-mutation}
PYTHON=${PYTHON:-python}

# name | module(s) to mutate (comma-separated) | focused tests (fast, targeted ones first)
# (pytest's -k is one expression for the whole run; a test module's name selects all of its tests)
MODULES=(
  "uid|compiler/iods/common/uid.py|tests/test_survivors.py -k uid"
  "functional_groups|compiler/iods/common/functional_groups.py|tests/test_spatial.py tests/test_sources.py"
  "codes|compiler/iods/common/codes.py|tests/test_codes.py tests/test_encode.py"
  "relationships|compiler/iods/sr/relationships.py|tests/test_mutation_kills_relationships.py tests/test_survivors.py tests/test_sr_relationship_table.py -k mutation_kills_relationships_or_scoord_or_reference_or_messages_name_or_concept_name_or_read_from_a_file_or_test_sr_relationship_table"
  "rle|compiler/io/rle.py,compiler/io/bits.py|tests/test_codec_oracles.py"
  "source_geometry|compiler/resolve/source_geometry.py|tests/test_mutation_kills_geometry.py tests/test_survivors.py tests/test_sources.py -k mutation_kills_geometry_or_sagittal_or_test_sources"
  "masks|compiler/resolve/masks.py|tests/test_survivors.py tests/test_masks.py -k nrrd_or_test_masks"
  "encode|compiler/write/encode.py|tests/test_mutation_kills_encode.py tests/test_encode.py"
  "transforms|compiler/spatial/transforms.py|tests/test_mutation_kills_spatial.py tests/test_spatial.py -k mutation_kills_spatial_or_transformer_or_pixel_or_image_coordinates_or_multiframe_or_enhanced_or_tiled_or_functional_group"
  "seg_pixels|compiler/iods/seg/pixels.py|tests/test_mutation_kills_seg_pixels.py tests/test_seg_builder.py"
  "volume|compiler/spatial/volume.py|tests/test_mutation_kills_spatial.py tests/test_spatial.py -k mutation_kills_spatial_or_affine_or_volume_or_unsorted_or_off_normal_or_reversed_or_single_slice_or_round_trip_or_flip_or_permute_or_channels_or_match_geometry"
  "contours|compiler/spatial/contours.py|tests/test_mutation_kills_contours.py tests/test_presentation_state.py -k mutation_kills_contours_or_outlines_andnot_example"
  "geojson|compiler/resolve/geojson.py|tests/test_mutation_kills_geojson.py tests/test_microscopy_annotations.py -k mutation_kills_geojson_or_geojson_or_qupath"
  "point_table|compiler/resolve/point_table.py|tests/test_mutation_kills_point_table.py tests/test_microscopy_annotations.py -k mutation_kills_point_table_or_csv"
  "seg_frame_index|compiler/iods/seg/frame_index.py|tests/test_mutation_kills_seg.py tests/test_presentation_state_color.py -k mutation_kills_seg_or_frame_index_scan"
  "seg_segment|compiler/iods/seg/segment.py|tests/test_mutation_kills_seg.py tests/test_seg_builder.py"
  "seg_segmentation|compiler/iods/seg/segmentation.py|tests/test_mutation_kills_seg.py tests/test_seg_builder.py"
  "seg_prepare|compiler/iods/seg/prepare.py|tests/test_mutation_kills_seg.py tests/test_seg_builder.py"
  "seg_read|compiler/iods/seg/read.py|tests/test_mutation_kills_seg.py tests/test_seg_builder.py"
  "common_vr|compiler/iods/common/vr.py|tests/test_mutation_kills_common_vr.py tests/test_presentation_state_fixes.py tests/test_encode.py -k mutation_kills_common_vr_or_ds_rule_or_set_element_refuses_or_element_helper_builds"
  "common_frames|compiler/iods/common/frames.py|tests/test_mutation_kills_common_frames.py"
  "common_encoding|compiler/iods/common/encoding.py|tests/test_mutation_kills_common_frames.py"
  "common_sources|compiler/iods/common/sources.py|tests/test_mutation_kills_common_sources.py"
  "common_source_frame|compiler/iods/common/source_frame.py|tests/test_mutation_kills_common_sources.py"
  "common_spacing|compiler/iods/common/spacing.py|tests/test_mutation_kills_common_sources.py tests/test_interop_defects.py -k mutation_kills_common_sources_or_regular_slice_spacing"
  "common_modules|compiler/iods/common/modules.py|tests/test_mutation_kills_common_modules.py"
  "common_stack|compiler/iods/common/stack.py|tests/test_mutation_kills_common_modules.py"
  "common_ucum|compiler/iods/common/ucum.py,compiler/iods/common/ucum_atoms.py|tests/test_mutation_kills_common_ucum.py tests/test_ucum.py"
  "common_small|compiler/iods/common/patient_study.py,compiler/iods/common/dimensions.py,compiler/iods/common/wrap.py,compiler/iods/common/concept.py,compiler/iods/common/algorithm.py,compiler/iods/common/color.py,compiler/iods/common/native.py,compiler/iods/common/icc.py|tests/test_mutation_kills_common_small.py tests/test_mutation_kills_common_patient_study.py"
  "headerscan|compiler/resolve/headerscan.py|tests/test_mutation_kills_headerscan.py tests/test_sources.py"
  "source_headers|compiler/resolve/source_headers.py|tests/test_mutation_kills_source_headers.py tests/test_sources.py"
  "source_series|compiler/resolve/source_series.py|tests/test_mutation_kills_source_series.py tests/test_sources.py"
  "source_files|compiler/resolve/source_files.py|tests/test_mutation_kills_source_files.py tests/test_sources.py"
  "resolve_codes|compiler/resolve/codes.py,compiler/resolve/code_table.py|tests/test_mutation_kills_resolve_codes.py tests/test_codes.py"
  "links|compiler/resolve/links.py|tests/test_mutation_kills_links.py tests/test_templates_links.py"
  "input_files|compiler/resolve/input_files.py|tests/test_mutation_kills_input_files.py tests/test_validate_fast.py tests/test_npy_header.py tests/test_masks.py"
)

run_one() {
  local name=$1 paths=$2 tests=$3
  local dir=$WORK/$name
  rm -rf "$dir" && mkdir -p "$dir/wt" "$dir/pkg"
  (cd "$ROOT" && tar --exclude=.venv --exclude=.git --exclude='*.egg-info' --exclude=__pycache__ \
      --exclude=.mutmut-cache -cf - .) | tar -xf - -C "$dir/wt"
  ln -s "$dir/wt/compiler" "$dir/pkg/dcmspec_compiler"
  # -k expressions are written with _or_ and _andnot_ above (no spaces inside one runner word)
  local expr=${tests//_andnot_/ and not }
  local runner="$PYTHON -m pytest -x -q -p no:cacheprovider -p no:randomly ${expr//_or_/ or }"
  runner=$(echo "$runner" | sed -E 's/-k ([^ ]+ (or|and not) [^ ]+( (or|and not) [^ ]+)*)/-k "\1"/g')
  echo "== $name: mutating $paths; tests: $runner" | tee "$dir/summary.txt"
  # byte-code of the unmutated package and of the rewritten test modules, written once: each mutant then
  # compiles only the module it mutates (never cached: its .pyc is removed, and mutants run with -B)
  (cd "$dir/wt" && $PYTHON -m compileall -q compiler >/dev/null 2>&1
   eval "env -u PYTHONDONTWRITEBYTECODE PYTHONPATH=\"$dir/pkg\" ${runner/ -x / --collect-only }" >/dev/null 2>&1
   for p in ${paths//,/ }; do rm -f "$(dirname "$p")/__pycache__/$(basename "$p" .py)".*.pyc; done)
  if [ -n "${FORKED:-}" ]; then
    # the same pytest arguments as the runner, as separate words (the -k expression is one of them)
    local pyargs=${runner#"$PYTHON -m pytest "}
    (cd "$dir/wt" && eval "PYTHONPATH=\"$dir/pkg\" $PYTHON tests/mutation/forked.py --register \"$paths\" \
        --timeout 120 ${SHUFFLE:+--shuffle $SHUFFLE} -- $pyargs" >"$dir/run.log" 2>&1)
  else
    (cd "$dir/wt" && PYTHONPATH="$dir/pkg" mutmut run --paths-to-mutate "$paths" --runner "$runner" \
        --simple-output --no-progress -b 60 >"$dir/run.log" 2>&1)
  fi
  (cd "$dir/wt" && mutmut results >"$dir/results.txt" 2>&1)
  (cd "$dir/wt" && $PYTHON - "$dir" <<'PY' | tee -a "$dir/summary.txt"
import sqlite3, sys
db = sqlite3.connect(".mutmut-cache")
rows = db.execute("select status, count(*) from Mutant group by status").fetchall()
counts = dict(rows)
total = sum(counts.values())
killed = counts.get("ok_killed", 0)
print(f"{sys.argv[1].rsplit('/', 1)[-1]}: {total} mutants, killed {killed}, survived {counts.get('bad_survived', 0)}, "
      f"timeout {counts.get('bad_timeout', 0)}, suspicious {counts.get('ok_suspicious', 0)}, "
      f"untested {counts.get('untested', 0)}; score {100 * killed / total if total else 0:.1f}%")
PY
  )
}

wanted=("$@")
for entry in "${MODULES[@]}"; do
  IFS='|' read -r name paths tests <<<"$entry"
  if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " =~ " $name " ]]; then continue; fi
  run_one "$name" "$paths" "$tests"
done
