/// A registry failure with a message a person (or an AI client) can act on.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case unknownSession, sessionEnded, unknownDatabase, tooManySessions, sessionLimit
        case poolExhausted, databaseUnavailable, shuttingDown, cancelled, invalidArgument
        /// A write aimed at a read-only database, or at a database the caller never named or selected.
        case readOnly, databaseNotChosen
        /// PostgreSQL did not answer within the call's deadline; its connection was abandoned.
        case deadlineExceeded
        /// A transaction across calls: one is already open on that database, none is, or it ended
        /// without the caller asking (idle timeout, lost connection).
        case transactionOpen, noTransaction, transactionEnded
        /// The database refuses its connections until someone changes something (privilegeCheck).
        case databaseRefused
        /// The dynamic connection the call ran on was disconnected under it, which cancelled it.
        case closedUnderCall
        /// A query's cursor that is not (or no longer) open for this caller.
        case unknownCursor
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    init(_ error: PoolError) {
        switch error.kind {
        case .exhausted: self.init(.poolExhausted, error.message)
        case .unavailable: self.init(.databaseUnavailable, error.message)
        case .shutdown: self.init(.shuttingDown, error.message)
        case .cancelled: self.init(.cancelled, error.message)
        }
    }
}
