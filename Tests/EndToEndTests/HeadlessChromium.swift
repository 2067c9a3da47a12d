// A real browser for the tests of the pages we write: Debian's chromium, headless, driven through
// its DevTools protocol over --remote-debugging-pipe. Commands go to the browser's fd 3 and its
// replies and events come from its fd 4, each a JSON message ended by a NUL byte, so no WebSocket
// is needed.
import Foundation

/// One headless chromium process and a page in it.
final class HeadlessChromium {
    private var pid: pid_t = 0
    private let commands: Int32
    private let replies: Int32
    private var received: [UInt8] = []
    private var nextID = 0
    /// The DevTools session of the page opened by `open`.
    private var session: String?

    /// Why chromium cannot run here, or nil when it can: the one reason a browser test may skip.
    /// An installed chromium that fails is a failure, not a reason.
    static var unavailability: String? {
        (try? which("chromium")) == nil
            ? "chromium is not installed (scripts/install-deps.sh installs Debian's chromium package)" : nil
    }

    /// Starts chromium with a fresh profile in `profile`.
    init(profile: URL) throws {
        let executable = try which("chromium")
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else {
            throw HarnessError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec, so that no other child keeps the pipes open; and the browser's ends above
        // fd 4, so that moving one to 3 cannot overwrite the other before it moves to 4.
        let browserReads = fcntl(toBrowser[0], F_DUPFD_CLOEXEC, 10), browserWrites = fcntl(fromBrowser[1], F_DUPFD_CLOEXEC, 10)
        close(toBrowser[0])
        close(fromBrowser[1])
        commands = toBrowser[1]
        replies = fromBrowser[0]
        _ = fcntl(commands, F_SETFD, FD_CLOEXEC)
        _ = fcntl(replies, F_SETFD, FD_CLOEXEC)
        defer {
            close(browserReads)
            close(browserWrites)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, browserReads, 3)
        posix_spawn_file_actions_adddup2(&actions, browserWrites, 4)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // --no-sandbox: chromium's sandbox refuses to run as root, which tests here are.
        let arguments = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                         "--remote-debugging-pipe", "--user-data-dir=\(profile.path)", "--window-size=1400,900",
                         "about:blank"]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard status == 0 else {
            close(commands)
            close(replies)
            throw HarnessError(description: "cannot start chromium: \(String(cString: strerror(status)))")
        }
    }

    deinit {
        // Browser.close ends the process; SIGKILL to our own child only if it does not.
        _ = try? command("Browser.close", [:], inSession: false)
        close(commands)
        close(replies)
        var status: Int32 = 0
        for _ in 0..<50 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    /// Sends a command and returns its result; DevTools errors are thrown.
    @discardableResult
    func command(_ method: String, _ parameters: [String: Any], inSession: Bool = true) throws -> [String: Any] {
        nextID += 1
        var message: [String: Any] = ["id": nextID, "method": method, "params": parameters]
        if inSession, let session { message["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
            guard count > 0 else { throw HarnessError(description: "chromium closed its DevTools pipe") }
            written += count
        }
        let deadline = Date().addingTimeInterval(30)
        while true {
            let reply = try nextMessage(before: deadline)
            guard reply["id"] as? Int == nextID else { continue }  // an event, or a late reply
            if let error = reply["error"] { throw HarnessError(description: "\(method): \(error)") }
            return reply["result"] as? [String: Any] ?? [:]
        }
    }

    private func nextMessage(before deadline: Date) throws -> [String: Any] {
        while true {
            if let end = received.firstIndex(of: 0) {
                let message = Data(received[..<end])
                received.removeSubrange(...end)
                return try JSONSerialization.jsonObject(with: message) as? [String: Any] ?? [:]
            }
            let remaining = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            var descriptor = pollfd(fd: replies, events: Int16(POLLIN), revents: 0)
            guard remaining > 0, poll(&descriptor, 1, remaining) > 0 else {
                throw HarnessError(description: "chromium did not answer within 30 s")
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = read(replies, &chunk, chunk.count)
            guard count > 0 else { throw HarnessError(description: "chromium closed its DevTools pipe") }
            received += chunk[..<count]
        }
    }

    /// Opens `url` in a new page and waits until it has loaded.
    func open(_ url: URL) throws {
        let target = try command("Target.createTarget", ["url": url.absoluteString], inSession: false)
        guard let targetID = target["targetId"] as? String else { throw HarnessError(description: "no page: \(target)") }
        let attached = try command("Target.attachToTarget", ["targetId": targetID, "flatten": true], inSession: false)
        session = attached["sessionId"] as? String
        let deadline = Date().addingTimeInterval(30)
        // The new page starts as about:blank, which is complete at once: wait for `url` itself.
        let href = String(decoding: try JSONSerialization.data(withJSONObject: [url.absoluteString]), as: UTF8.self)
        while try evaluate("location.href === \(href)[0] && document.readyState === 'complete'") as? Bool != true {
            guard Date() < deadline else { throw HarnessError(description: "\(url) did not load within 30 s") }
            usleep(50_000)
        }
    }

    /// The value of a JavaScript expression in the page.
    func evaluate(_ expression: String) throws -> Any? {
        let result = try command("Runtime.evaluate", ["expression": expression, "returnByValue": true])
        if let exception = result["exceptionDetails"] { throw HarnessError(description: "\(expression): \(exception)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Clicks with the mouse in the middle of the first element `selector` matches, after
    /// scrolling it into view: a click through the browser's input pipeline, as a user's is.
    func click(_ selector: String) throws {
        let quoted = String(decoding: try JSONSerialization.data(withJSONObject: [selector]), as: UTF8.self)
        let point = try evaluate("""
            (() => { const e = document.querySelector(\(quoted)[0]); if (!e) return null;
                     e.scrollIntoView({ block: 'center' }); const r = e.getBoundingClientRect();
                     return [r.left + Math.min(r.width / 2, 40), r.top + r.height / 2]; })()
            """) as? [Double]
        guard let point, point.count == 2 else { throw HarnessError(description: "nothing matches \(selector)") }
        for type in ["mousePressed", "mouseReleased"] {
            try command("Input.dispatchMouseEvent", ["type": type, "x": point[0], "y": point[1], "button": "left", "clickCount": 1])
        }
    }
}
