// Loads dcmspec's SEG and SR objects the way OHIF 3 does, headless in node, and prints what it got as
// JSON for tests/interop/test_cornerstone.py to compare with the masks and specs.
//
//   node load.mjs jobs.json      jobs: [{id, kind: "seg" | "sr" | "kos" | "pm", file, sources: [source files in stack order]}]
//
// SEG: @cornerstonejs/adapters' Cornerstone3D.Segmentation.createFromDICOMSegBuffer(imageIds, arrayBuffer,
// {metadataProvider}), the call OHIF 3's cornerstone-dicom-seg extension makes, with @cornerstonejs/core's
// metaData registry as provider (OHIF registers its DICOM metadata store there; we register the source
// files read with dcmjs). Output per layer: a SHA-256 of the label map (uint16 little endian, source stack
// order) and the voxel count of every value.
// PM: adaptersPMAP.Cornerstone3D.ParametricMap.generateToolState(imageIds, arrayBuffer, metadataProvider), the
// call OHIF 3's cornerstone-dicom-pmap extension makes; output: the typed array's class, length and SHA-256.
// SR: dcmjs parses the file (DicomMessage.readFile + naturalizeDataset, as OHIF's SR extension does); the
// TID 1500 measurement groups are listed from that naturalized tree, then the adapter's
// MeasurementReport.generateToolState (OHIF's SR hydration) runs and the tools it made are counted.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { metaData } from '@cornerstonejs/core';
import { adaptersPMAP, adaptersSEG, adaptersSR } from '@cornerstonejs/adapters';
import dcmjs from 'dcmjs';

const { DicomMessage, DicomMetaDictionary } = dcmjs.data;

function readNaturalized(path) {
  const bytes = readFileSync(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const message = DicomMessage.readFile(buffer);
  const dataset = DicomMetaDictionary.naturalizeDataset(message.dict);
  dataset._meta = DicomMetaDictionary.namifyDataset(message.meta);
  return { buffer, dataset };
}

const asArray = (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const numbers = (value) => asArray(value).map(Number);

// --- a metadata provider over source files, in the modules cornerstone asks for ---------------------
const instances = new Map(); // imageId -> naturalized dataset

function moduleOf(type, ds) {
  const iop = numbers(ds.ImageOrientationPatient);
  const spacing = numbers(ds.PixelSpacing);
  switch (type) {
    case 'instance':
      return ds;
    case 'imagePlaneModule':
      return {
        frameOfReferenceUID: ds.FrameOfReferenceUID,
        rows: ds.Rows,
        columns: ds.Columns,
        imageOrientationPatient: iop,
        rowCosines: iop.slice(0, 3),
        columnCosines: iop.slice(3, 6),
        imagePositionPatient: numbers(ds.ImagePositionPatient),
        sliceThickness: Number(ds.SliceThickness),
        pixelSpacing: spacing,
        rowPixelSpacing: spacing[0],
        columnPixelSpacing: spacing[1],
      };
    case 'generalSeriesModule':
      return { modality: ds.Modality, seriesInstanceUID: ds.SeriesInstanceUID, studyInstanceUID: ds.StudyInstanceUID };
    case 'generalImageModule':
      return { sopInstanceUID: ds.SOPInstanceUID, instanceNumber: ds.InstanceNumber };
    case 'imagePixelModule':
      return {
        samplesPerPixel: ds.SamplesPerPixel, photometricInterpretation: ds.PhotometricInterpretation,
        rows: ds.Rows, columns: ds.Columns, bitsAllocated: ds.BitsAllocated, bitsStored: ds.BitsStored,
        highBit: ds.HighBit, pixelRepresentation: ds.PixelRepresentation,
      };
    case 'sopCommonModule':
      return { sopClassUID: ds.SOPClassUID, sopInstanceUID: ds.SOPInstanceUID };
    default:
      return undefined;
  }
}

metaData.addProvider((type, imageId) => {
  const ds = instances.get(imageId);
  return ds === undefined ? undefined : moduleOf(type, ds);
}, 10000);

function registerSources(files) {
  return files.map((file) => {
    const imageId = `dcmspec:${file}`;
    if (!instances.has(imageId)) {
      instances.set(imageId, readNaturalized(file).dataset);
    }
    return imageId;
  });
}

// --- SEG ----------------------------------------------------------------------------------------------
async function loadSeg(job) {
  const imageIds = registerSources(job.sources);
  const { buffer } = readNaturalized(job.file);
  const result = await adaptersSEG.Cornerstone3D.Segmentation.createFromDICOMSegBuffer(
    imageIds, buffer, { metadataProvider: metaData });
  const segments = result.segMetadata.data.filter((s) => s !== undefined && s !== null);
  const layers = result.labelMapImages.map((images) => {
    const hash = createHash('sha256');
    const counts = {};
    for (const image of images) {
      const voxels = image.voxelManager ? image.voxelManager.getScalarData() : image.getPixelData();
      const wide = Uint16Array.from(voxels);
      hash.update(Buffer.from(wide.buffer, wide.byteOffset, wide.byteLength));
      for (const v of voxels) counts[v] = (counts[v] || 0) + 1;
    }
    return { sha256: hash.digest('hex'), counts, bytes_per_voxel: images[0].getPixelData().BYTES_PER_ELEMENT };
  });
  return {
    ok: true,
    segment_numbers: segments.map((s) => Number(s.SegmentNumber)),
    segment_labels: segments.map((s) => s.SegmentLabel),
    overlapping: Boolean(result.overlappingSegments),
    layers,
  };
}

// --- PM -----------------------------------------------------------------------------------------------
async function loadPm(job) {
  const imageIds = registerSources(job.sources);
  const { buffer } = readNaturalized(job.file);
  const { pixelData } = await adaptersPMAP.Cornerstone3D.ParametricMap.generateToolState(imageIds, buffer, metaData);
  const bytes = Buffer.from(pixelData.buffer, pixelData.byteOffset, pixelData.byteLength);
  return {
    ok: true, type: pixelData.constructor.name, length: pixelData.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

// --- SR -----------------------------------------------------------------------------------------------
const meaningIs = (meaning) => (item) => asArray(item.ConceptNameCodeSequence)[0]?.CodeMeaning === meaning;
const codeOf = (seq) => {
  const code = asArray(seq)[0];
  return code ? `${code.CodingSchemeDesignator}:${code.CodeValue}` : null;
};

function measurementGroups(dataset) {
  const report = asArray(dataset.ContentSequence).find(meaningIs('Imaging Measurements'));
  const groups = asArray(report?.ContentSequence).filter(meaningIs('Measurement Group'));
  return groups.map((group) => {
    const items = asArray(group.ContentSequence);
    const trackingId = items.find(meaningIs('Tracking Identifier'));
    const trackingUid = items.find(meaningIs('Tracking Unique Identifier'));
    const segmentItem = items.find((item) => item.ValueType === 'IMAGE'
      && asArray(item.ReferencedSOPSequence)[0]?.ReferencedSegmentNumber !== undefined);
    const measurements = items.filter((item) => item.ValueType === 'NUM').map((num) => {
      const value = asArray(num.MeasuredValueSequence)[0];
      return {
        name: codeOf(num.ConceptNameCodeSequence),
        value: value === undefined ? null : Number(value.NumericValue),
        unit: value === undefined ? null : codeOf(value.MeasurementUnitsCodeSequence),
      };
    });
    return {
      tracking_id: trackingId?.TextValue ?? null,
      tracking_uid: trackingUid?.UID ?? null,
      segment: segmentItem ? numbers(asArray(segmentItem.ReferencedSOPSequence)[0].ReferencedSegmentNumber) : null,
      measurements,
    };
  });
}

function loadSr(job) {
  const imageIds = registerSources(job.sources);
  const sopToImageId = Object.fromEntries(imageIds.map((id) => [instances.get(id).SOPInstanceUID, id]));
  const { dataset } = readNaturalized(job.file);
  const out = {
    ok: true,
    sop_class_uid: dataset.SOPClassUID,
    template: asArray(dataset.ContentTemplateSequence)[0]?.TemplateIdentifier ?? null,
    groups: measurementGroups(dataset),
    // the instances the root's IMAGE and COMPOSITE items refer to (what a KOS selects)
    references: asArray(dataset.ContentSequence).filter((item) => item.ReferencedSOPSequence)
      .map((item) => asArray(item.ReferencedSOPSequence)[0].ReferencedSOPInstanceUID),
  };
  if (job.kind === 'kos') {
    return out; // the adapters have no KOS loader: dcmjs's parse is what OHIF reads
  }
  try {
    const state = adaptersSR.Cornerstone3D.MeasurementReport.generateToolState(dataset, sopToImageId, metaData);
    out.adapter = { ok: true, tools: Object.fromEntries(Object.entries(state).map(([k, v]) => [k, v.length])) };
  } catch (error) {
    out.adapter = { ok: false, error: String(error?.message ?? error) };
  }
  return out;
}

// --- main ---------------------------------------------------------------------------------------------
const jobs = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const results = {};
for (const job of jobs) {
  try {
    results[job.id] = job.kind === 'seg' ? await loadSeg(job) : job.kind === 'pm' ? await loadPm(job) : loadSr(job);
  } catch (error) {
    results[job.id] = { ok: false, error: String(error?.message ?? error) };
  }
}
process.stdout.write(JSON.stringify(results, null, 1));
