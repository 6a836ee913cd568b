namespace TierStorage.Contracts;

/// <summary>Where a session is in its life. Values are ordered: a session only moves forward.</summary>
public enum SessionState
{
    Active,
    Completed,
    BackedUp,
    Archived,
}

/// <summary>The kinds of event the activity log records. Serialized in snake_case (tool_call, llm_call, ...).</summary>
public enum SessionEventType
{
    SessionStart,
    SessionEnd,
    AgentInvocation,
    ToolCall,
    FileOperation,
    LlmCall,
    Error,
    Decision,
    Snapshot,
}

/// <summary>The kind of store behind a tier.</summary>
public enum TierKind
{
    Folder,
    GoogleDrive,
    S3,
}

/// <summary>Position of a tier in the three-tier design.</summary>
public enum TierLevel
{
    Local = 1,
    Backup = 2,
    Archive = 3,
}

public enum FindingSeverity
{
    Error,
    Warning,
    Information,
}
