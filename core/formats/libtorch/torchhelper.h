#pragma once
// The LibTorch engine runs in a helper process, paramscope-torch-helper.
//
// torch::jit::load trusts what a file declares (a storage's size in data.pkl over its
// record's real size) and compiles and runs the file's code, so a crafted file can crash
// it or make it hand out heap bytes. ParamScope therefore:
//  1. reads the file with the native reader first; a file the native checks refuse is
//     refused with the native reason and LibTorch never sees it;
//  2. runs torch::jit::load in the helper, which loads the plug-in, reads the file again
//     natively and refuses any tensor whose LibTorch storage size or dtype differs from
//     what the native index says (before any storage byte is read);
//  3. the helper writes the index and the storage bytes into one temporary file (format
//     below) that the parent maps, unlinks and checks like any other untrusted input.
// A crash of the helper (a signal), a non-zero exit or a cancel ends the load with a
// message naming the file; the calling program keeps running.
//
// Helper protocol: `paramscope-torch-helper MODEL OUTPUT [--max-memory=BYTES]`.
// stdout carries lines "progress\t<fraction>\t<text>" and, on failure, one line
// "error\t<message>" before exit code 3. Exit code 0: OUTPUT holds the result.
//
// Result file (little-endian): "PSTORCH1", u64 header size H, H header bytes, then the
// storages, each at a 64-byte aligned offset. Header: u8 format; u32 n + n strings
// (warnings); u32 n + n storages {string key, u8 dtype, u64 bytes, u64 file offset};
// u32 n + n entries {string name, u8 kind, u8 dtype, u32 rank, rank i64 sizes, rank i64
// strides, i64 storage offset, u8 requires_grad, i32 storage, f64 scale, i64 zero point,
// u8 per-channel, [i32 axis, u64 count, count f64 scales, count i64 zero points]}.
// A string is a u32 length and that many UTF-8 bytes.

#include "model/loadtypes.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace paramscope::detail {

/// Name of the helper program.
inline constexpr const char* kTorchHelperName = "paramscope-torch-helper";

/// Where the helper is looked for, first hit wins: $PARAMSCOPE_TORCH_HELPER, next to the
/// program, where `cmake --install` puts it (libexec/paramscope/, relative to the installed
/// program), then where the build put it (unless PARAMSCOPE_NO_BUILD_PATHS is set). Empty
/// with `tried` filled when none exists.
QString findTorchHelper(QStringList* tried = nullptr);

/// The helper's second check, on LibTorch's index (`lt`) before any of its storage bytes
/// is read: a tensor the native reader left out is left out (with the native reason); a
/// tensor whose storage size or dtype LibTorch sees differently from the native index
/// refuses the file (LibTorch would read past the record). Storages are renumbered.
LoadResult checkTorchIndexAgainstNative(const ModelIndex& lt, const ModelIndex& native);

/// Serializes an index (LibTorch's, with storages readable) into the result format.
/// Fails (naming the file) when a storage cannot be read or the output cannot be written.
Status writeTorchHelperResult(const ModelIndex& index, const QString& outputPath);

/// Parses a result file written by the helper. Every count, size and offset is checked
/// against the file; `modelPath` is what the index reports as its file and names the
/// model in messages.
LoadResult readTorchHelperResult(const QString& resultPath, const QString& modelPath);

/// The helper's main (app/torch_helper_main.cpp): arguments without the program name.
int torchHelperMain(const QStringList& arguments);

}  // namespace paramscope::detail
