/// A secret (password, token) that prints as `•••` in every description, log line, dump and error,
/// so it cannot leak by interpolation. Only `reveal()` gives the value, for the one place that needs it.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) { self.value = value }

    public func reveal() -> String { value }

    public var isEmpty: Bool { value.isEmpty }

    public var description: String { "•••" }
    public var debugDescription: String { "•••" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
