internal import CZstd

/// A failure compressing, decompressing or delimiting zstd frames: what was
/// being done, and why.
///
/// The description reads like
/// `zstd: decompressing the frame at byte offset 4096: Restored data doesn't match checksum`.
public struct ZstdError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure, for code that reacts to some of them.
    ///
    /// A struct rather than an enum so that new kinds can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A frame's content checksum does not match its decompressed bytes.
        public static let checksumMismatch = Code(rawValue: "checksumMismatch")
        /// The compressed data is malformed.
        public static let corruptData = Code(rawValue: "corruptData")
        /// The input ends inside a frame.
        public static let truncatedInput = Code(rawValue: "truncatedInput")
        /// Bytes where a frame should start are not a zstd or skippable frame.
        public static let notAFrame = Code(rawValue: "notAFrame")
        /// More bytes follow where exactly one frame was expected.
        public static let trailingData = Code(rawValue: "trailingData")
        /// A frame is larger than the caller allowed.
        public static let frameTooLarge = Code(rawValue: "frameTooLarge")
        /// A parameter was refused: compression level, worker count, ...
        public static let invalidParameter = Code(rawValue: "invalidParameter")
        /// The API was used out of order (e.g. a one-shot frame while a
        /// streamed frame is still open).
        public static let invalidState = Code(rawValue: "invalidState")
        /// zstd could not allocate memory.
        public static let outOfMemory = Code(rawValue: "outOfMemory")
        /// Any other error zstd reported.
        public static let other = Code(rawValue: "other")
    }

    /// The kind of failure.
    public var code: Code
    /// What was being done, e.g. `"decompressing the frame at byte offset 4096"`.
    public var operation: String
    /// Why it failed: zstd's own text (`ZSTD_getErrorName`) or pgcellar's.
    public var reason: String
    /// The byte offset in the input the failure is about, when known.
    public var offset: UInt64?

    public init(code: Code, operation: String, reason: String, offset: UInt64? = nil) {
        self.code = code
        self.operation = operation
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        "zstd: \(operation): \(reason)"
    }
}

extension ZstdError {
    /// An error for a `size_t` result that `ZSTD_isError` flags.
    init(zstdResult result: Int, operation: String, offset: UInt64? = nil) {
        let code: Code
        switch ZSTD_getErrorCode(result) {
        case ZSTD_error_checksum_wrong:
            code = .checksumMismatch
        case ZSTD_error_corruption_detected, ZSTD_error_prefix_unknown, ZSTD_error_literals_headerWrong,
            ZSTD_error_frameParameter_unsupported, ZSTD_error_tableLog_tooLarge,
            ZSTD_error_maxSymbolValue_tooLarge, ZSTD_error_maxSymbolValue_tooSmall,
            ZSTD_error_dictionary_wrong, ZSTD_error_frameParameter_windowTooLarge:
            code = .corruptData
        case ZSTD_error_srcSize_wrong:
            code = .truncatedInput
        case ZSTD_error_parameter_unsupported, ZSTD_error_parameter_outOfBound,
            ZSTD_error_parameter_combination_unsupported:
            code = .invalidParameter
        case ZSTD_error_memory_allocation:
            code = .outOfMemory
        default:
            code = .other
        }
        // > ZSTD_getErrorName(): provides readable string from an error code
        self.init(code: code, operation: operation, reason: String(cString: ZSTD_getErrorName(result)), offset: offset)
    }

    /// Returns `result` unless zstd says it is an error code, in which case throws.
    @inline(__always)
    static func check(_ result: Int, _ operation: @autoclosure () -> String, offset: UInt64? = nil) throws -> Int {
        // > ZSTD_isError(): tells if a `size_t` function result is an error code
        if ZSTD_isError(result) != 0 {
            throw ZstdError(zstdResult: result, operation: operation(), offset: offset)
        }
        return result
    }
}
