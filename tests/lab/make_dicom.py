#!/usr/bin/python3
"""Generates synthetic CT and PET Image Storage files for the lab: never real patient data.

Deterministic: the same arguments (seed included) give byte-identical files, so tests and
benchmarks can regenerate their inputs instead of storing them.
"""
import argparse
import datetime
import math
import os
import random
import sys

from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
PET_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.128"
SOP_CLASS = {"CT": CT_IMAGE_STORAGE, "PT": PET_IMAGE_STORAGE}
# pydicom's own UID root, registered for exactly this kind of generated test object.
UID_ROOT = "1.2.826.0.1.3680043.8.498."
IMPLEMENTATION_CLASS_UID = UID_ROOT + "1"
IMPLEMENTATION_VERSION = "MODGATE_LAB"


def parse_size(text):
    units = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    t = text.strip().lower().rstrip("b").rstrip("i")
    suffix = t[-1:] if t[-1:] in units and not t[-1:].isdigit() else ""
    number = t[: len(t) - len(suffix)] if suffix else t
    try:
        value = int(float(number) * units[suffix])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 4096, 64k, 2M)")
    if not 2 <= value <= 0xFFFFFFF0 - 0x100000:
        raise argparse.ArgumentTypeError("pixel payload must be 2 bytes to just under 4 GiB")
    return value


def uid(seed, *parts):
    return generate_uid(prefix=UID_ROOT, entropy_srcs=[str(seed)] + [str(p) for p in parts])


def pixel_geometry(payload):
    """Rows x Columns of 16-bit pixels holding at least `payload` bytes (a full last row)."""
    pixels = math.ceil(payload / 2)
    columns = min(pixels, max(512, math.ceil(pixels / 65535)))  # Rows and Columns are US
    rows = math.ceil(pixels / columns)
    return rows, columns


def make_dataset(args, index, rng):
    modality = args.modality if args.modality != "mix" else ("PT" if index % 2 == 0 else "CT")
    patient = index % args.patients + 1
    study_key = ("study", patient)
    series_key = ("series", patient, modality)
    sop_uid = uid(args.seed, "instance", index)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SOP_CLASS[modality]
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION

    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    date = (datetime.date(2017, 8, 3) + datetime.timedelta(days=patient)).strftime("%Y%m%d")
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = SOP_CLASS[modality]
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = f"{8 + patient % 10:02d}{index % 60:02d}00"
    ds.AccessionNumber = f"ACC{args.seed % 100000:05d}{patient:04d}"
    ds.Modality = modality
    ds.Manufacturer = "MODGATE LAB"
    ds.InstitutionName = "Synthetic Test Hospital"
    ds.StationName = "PETCT1"
    ds.StudyDescription = "SYNTHETIC PET-CT"
    ds.SeriesDescription = f"SYNTHETIC {modality}"
    ds.PatientName = f"TEST^PATIENT^{patient}"
    ds.PatientID = f"TEST{args.seed % 10000:04d}{patient:04d}"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = uid(args.seed, *study_key)
    ds.SeriesInstanceUID = uid(args.seed, *series_key)
    ds.StudyID = str(patient)
    ds.SeriesNumber = 1 if modality == "CT" else 2
    ds.InstanceNumber = index + 1
    ds.FrameOfReferenceUID = uid(args.seed, "frame", patient)
    ds.ImagePositionPatient = [-250.0, -250.0, 0.0 - index * 3.0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceThickness = "3.0"
    ds.PixelSpacing = ["0.9765625", "0.9765625"]
    if modality == "CT":
        ds.KVP = "120"
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
    else:
        ds.SeriesType = ["STATIC", "IMAGE"]
        ds.CountsSource = "EMISSION"
        ds.Units = "BQML"
        ds.CorrectedImage = ["ATTN", "DECY"]
        ds.DecayCorrection = "START"
        drug = Dataset()  # a sequence, so transfers exercise nested items too
        drug.Radiopharmaceutical = "Fluorodeoxyglucose"
        drug.RadiopharmaceuticalStartTime = "080000"
        drug.RadionuclideTotalDose = "370000000"
        drug.RadionuclideHalfLife = "6586.2"
        ds.RadiopharmaceuticalInformationSequence = [drug]
        ds.RescaleIntercept = "0"
        ds.RescaleSlope = "1.0"

    rows, columns = pixel_geometry(args.pixel_bytes)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = rng.randbytes(rows * columns * 2)
    return ds, modality


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--out", required=True, help="output directory (created)")
    p.add_argument("-n", "--count", type=int, default=4, help="number of files (default 4)")
    p.add_argument("-m", "--modality", choices=["CT", "PT", "mix"], default="mix",
                   help="CT Image Storage, PET Image Storage, or alternate PT/CT (default mix)")
    p.add_argument("-s", "--pixel-bytes", type=parse_size, default=parse_size("64k"),
                   help="pixel payload per file, rounded up to a full row of 16-bit pixels "
                        "(e.g. 4096, 64k, 2M; default 64k)")
    p.add_argument("-p", "--patients", type=int, default=1,
                   help="synthetic patients TEST^PATIENT^1..N, files spread over them (default 1)")
    p.add_argument("--seed", type=int, default=1, help="seed for UIDs and pixels (default 1)")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args()
    if args.count < 1 or args.patients < 1:
        p.error("--count and --patients must be at least 1")

    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    for i in range(args.count):
        ds, modality = make_dataset(args, i, rng)
        path = os.path.join(args.out, f"{modality}{i + 1:04d}.dcm")
        ds.save_as(path, write_like_original=False)
        if not args.quiet:
            print(f"{path} {modality} {ds.SOPInstanceUID} pixel_bytes={len(ds.PixelData)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
