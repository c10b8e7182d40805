// The tables behind the friendly SOP class and transfer syntax names (PS3.4 Annex B, PS3.6 A).
#include "policy/sop_classes.hpp"

#include <array>
#include <cctype>

namespace modgate::policy {
namespace {

using U = std::string_view;
constexpr U verification[] = {"1.2.840.10008.1.1"};
constexpr U ct[] = {"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.2.1", "1.2.840.10008.5.1.4.1.1.2.2"};
constexpr U pet[] = {"1.2.840.10008.5.1.4.1.1.128", "1.2.840.10008.5.1.4.1.1.130",
                     "1.2.840.10008.5.1.4.1.1.128.1"};
constexpr U mr[] = {"1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.4.1", "1.2.840.10008.5.1.4.1.1.4.2",
                    "1.2.840.10008.5.1.4.1.1.4.3", "1.2.840.10008.5.1.4.1.1.4.4"};
constexpr U nm[] = {"1.2.840.10008.5.1.4.1.1.20"};
constexpr U cr[] = {"1.2.840.10008.5.1.4.1.1.1"};
constexpr U dx[] = {"1.2.840.10008.5.1.4.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1.1"};
constexpr U mg[] = {"1.2.840.10008.5.1.4.1.1.1.2", "1.2.840.10008.5.1.4.1.1.1.2.1"};
constexpr U xa[] = {"1.2.840.10008.5.1.4.1.1.12.1", "1.2.840.10008.5.1.4.1.1.12.1.1"};
constexpr U rf[] = {"1.2.840.10008.5.1.4.1.1.12.2", "1.2.840.10008.5.1.4.1.1.12.2.1"};
constexpr U us[] = {"1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.3.1"};
constexpr U sc[] = {"1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.7.1", "1.2.840.10008.5.1.4.1.1.7.2",
                    "1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.5.1.4.1.1.7.4"};
constexpr U gsps[] = {"1.2.840.10008.5.1.4.1.1.11.1"};
constexpr U dose_sr[] = {"1.2.840.10008.5.1.4.1.1.88.67", "1.2.840.10008.5.1.4.1.1.88.68"};
constexpr U sr[] = {"1.2.840.10008.5.1.4.1.1.88.11", "1.2.840.10008.5.1.4.1.1.88.22",
                    "1.2.840.10008.5.1.4.1.1.88.33"};
constexpr U kos[] = {"1.2.840.10008.5.1.4.1.1.88.59"};
constexpr U pdf[] = {"1.2.840.10008.5.1.4.1.1.104.1"};
constexpr U raw[] = {"1.2.840.10008.5.1.4.1.1.66"};
constexpr U worklist[] = {"1.2.840.10008.5.1.4.31"};
constexpr U mpps[] = {"1.2.840.10008.3.1.2.3.3"};
constexpr U commitment[] = {"1.2.840.10008.1.20.1"};
constexpr U study_qr[] = {"1.2.840.10008.5.1.4.1.2.2.1", "1.2.840.10008.5.1.4.1.2.2.2", "1.2.840.10008.5.1.4.1.2.2.3"};
constexpr U patient_qr[] = {"1.2.840.10008.5.1.4.1.2.1.1", "1.2.840.10008.5.1.4.1.2.1.2",
                            "1.2.840.10008.5.1.4.1.2.1.3"};

constexpr UidGroup sop_groups[] = {
    {"Verification", "C-ECHO connectivity checks", verification},
    {"CT", "CT, Enhanced CT and Legacy Converted Enhanced CT Image Storage", ct},
    {"PET", "PET, Enhanced PET and Legacy Converted Enhanced PET Image Storage", pet},
    {"MR", "MR, Enhanced MR, MR Spectroscopy and related Image Storage", mr},
    {"NM", "Nuclear Medicine Image Storage", nm},
    {"CR", "Computed Radiography Image Storage", cr},
    {"DX", "Digital X-Ray Image Storage (for presentation and for processing)", dx},
    {"MG", "Digital Mammography X-Ray Image Storage", mg},
    {"XA", "X-Ray Angiographic Image Storage", xa},
    {"RF", "X-Ray Radiofluoroscopic Image Storage", rf},
    {"US", "Ultrasound Image Storage", us},
    {"SecondaryCapture", "Secondary Capture Image Storage (all variants)", sc},
    {"GSPS", "Grayscale Softcopy Presentation State Storage", gsps},
    {"DoseSR", "X-Ray and Radiopharmaceutical Radiation Dose SR", dose_sr},
    {"SR", "Basic, Enhanced and Comprehensive SR", sr},
    {"KeyObjectSelection", "Key Object Selection Document", kos},
    {"EncapsulatedPDF", "Encapsulated PDF Storage", pdf},
    {"RawData", "Raw Data Storage", raw},
    {"ModalityWorklist", "Modality Worklist Information Model - FIND", worklist},
    {"MPPS", "Modality Performed Procedure Step", mpps},
    {"StorageCommitment", "Storage Commitment Push Model", commitment},
    {"StudyRootQR", "Study Root Query/Retrieve - FIND, MOVE, GET", study_qr},
    {"PatientRootQR", "Patient Root Query/Retrieve - FIND, MOVE, GET", patient_qr},
};

constexpr U ts_implicit[] = {"1.2.840.10008.1.2"};
constexpr U ts_explicit[] = {"1.2.840.10008.1.2.1"};
constexpr U ts_deflated[] = {"1.2.840.10008.1.2.1.99"};
constexpr U ts_big[] = {"1.2.840.10008.1.2.2"};
constexpr U ts_jpeg_baseline[] = {"1.2.840.10008.1.2.4.50"};
constexpr U ts_jpeg_lossless[] = {"1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.57"};
constexpr U ts_jpegls[] = {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"};
constexpr U ts_j2k[] = {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"};
constexpr U ts_j2k_lossless[] = {"1.2.840.10008.1.2.4.90"};
constexpr U ts_rle[] = {"1.2.840.10008.1.2.5"};

constexpr UidGroup ts_names[] = {
    {"ImplicitVRLittleEndian", "Implicit VR Little Endian", ts_implicit},
    {"ExplicitVRLittleEndian", "Explicit VR Little Endian", ts_explicit},
    {"DeflatedExplicitVRLittleEndian", "Deflated Explicit VR Little Endian", ts_deflated},
    {"ExplicitVRBigEndian", "Explicit VR Big Endian (retired)", ts_big},
    {"JPEGBaseline", "JPEG Baseline (Process 1)", ts_jpeg_baseline},
    {"JPEGLossless", "JPEG Lossless (Process 14, and SV1)", ts_jpeg_lossless},
    {"JPEGLS", "JPEG-LS Lossless and Near-Lossless", ts_jpegls},
    {"JPEG2000", "JPEG 2000 (Lossless Only, and lossy)", ts_j2k},
    {"JPEG2000Lossless", "JPEG 2000 Lossless Only", ts_j2k_lossless},
    {"RLELossless", "RLE Lossless", ts_rle},
};

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

const UidGroup* find_in(std::span<const UidGroup> table, std::string_view name) {
    for (const auto& g : table)
        if (iequal(g.name, name)) return &g;
    return nullptr;
}

}  // namespace

std::span<const UidGroup> sop_class_groups() { return sop_groups; }
std::span<const UidGroup> transfer_syntax_names() { return ts_names; }
const UidGroup* find_sop_class_group(std::string_view name) { return find_in(sop_groups, name); }
const UidGroup* find_transfer_syntax(std::string_view name) { return find_in(ts_names, name); }

bool valid_uid(std::string_view uid) {
    if (uid.empty() || uid.size() > 64) return false;
    std::size_t comp_start = 0;
    for (std::size_t i = 0; i <= uid.size(); ++i) {
        if (i == uid.size() || uid[i] == '.') {
            auto len = i - comp_start;
            if (len == 0) return false;                          // empty component
            if (len > 1 && uid[comp_start] == '0') return false;  // leading zero
            comp_start = i + 1;
        } else if (!std::isdigit(static_cast<unsigned char>(uid[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace modgate::policy
