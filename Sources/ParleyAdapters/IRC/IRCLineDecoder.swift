import Logging
import NIOCore

/// Frames the server's bytes into lines, bounded as IRC bounds them: at most 8,191 bytes of message
/// tags plus 512 for the message itself (IRCv3 message-tags; RFC 1459 for the rest). A longer line
/// is not something a server sends, so it is dropped whole — up to its line feed, however far off —
/// with a warning, and the connection goes on; memory held for one line never exceeds the bound.
struct IRCLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// The longest line kept, line feed excluded: 8,191 bytes of tags and 512 of message.
    static let maximumLength = 8191 + 512

    let logger: Logger
    /// True while the rest of an over-long line is being skipped.
    private var discarding = false
    /// Bytes of the line being skipped, for the warning.
    private var discarded = 0

    init(logger: Logger) {
        self.logger = logger
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if discarding || buffer.readableBytes > Self.maximumLength {
                discarding = true
                discarded += buffer.readableBytes
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            }
            return .needMoreData
        }
        let length = newline - view.startIndex
        if discarding || length > Self.maximumLength {
            logger.warning(
                "IRC server sent a line of \(discarded + length) bytes, over IRC's \(Self.maximumLength); dropped")
            discarding = false
            discarded = 0
            buffer.moveReaderIndex(forwardBy: length + 1)
            return .continue
        }
        guard var line = buffer.readSlice(length: length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A last line without its line feed is cut off mid-way; it is not handed on.
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return .needMoreData
    }
}
