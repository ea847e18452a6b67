import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// A cap on the connections one instance holds open. Past it, a new connection's first request gets a
/// plain `503` with `Retry-After` and `Connection: close`, and the connection is closed: a flood of
/// idle or slow clients cannot take every socket (each idle one is closed by the idle timeout, 30 s).
final class ConnectionLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Open connections across the instance.
    final class Counter: Sendable {
        let limit: Int
        private let open = Atomic<Int>(0)

        init(limit: Int) { self.limit = limit }

        var current: Int { open.load(ordering: .relaxed) }

        /// Counts a new connection; false when it is past the limit (it is counted anyway until it closes).
        func admit() -> Bool { open.add(1, ordering: .relaxed).newValue <= limit }

        func release() { open.subtract(1, ordering: .relaxed) }
    }

    private let counter: Counter
    private var counted = false
    private var refusing = false

    init(counter: Counter) { self.counter = counter }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { count() }
    }

    func channelActive(context: ChannelHandlerContext) {
        count()
        context.fireChannelActive()
    }

    private func count() {
        guard !counted else { return }
        counted = true
        refusing = !counter.admit()
    }

    func channelInactive(context: ChannelHandlerContext) {
        uncount()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { uncount() }

    private func uncount() {
        guard counted else { return }
        counted = false
        counter.release()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard refusing else { return context.fireChannelRead(data) }
        guard case .head = unwrapInboundIn(data) else { return }
        let body = "Too many open connections; try again in a moment.\n"
        var head = HTTPResponse(status: .serviceUnavailable)
        head.headerFields[.contentType] = "text/plain; charset=utf-8"
        head.headerFields[.contentLength] = "\(body.utf8.count)"
        head.headerFields[.retryAfter] = "1"
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(string: body))), promise: nil)
        let closed = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: closed)
        let channel = context.channel
        closed.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
}
