namespace TierStorage.Engine.Policy;

/// <summary>The stable <see cref="Contracts.PolicyFinding.Code"/> values, so scripts can filter Test-TierPolicy output.</summary>
public static class PolicyFindingCodes
{
    public const string FileNotFound = "FileNotFound";
    public const string FileUnreadable = "FileUnreadable";
    public const string FileTooLarge = "FileTooLarge";
    public const string BinaryContent = "BinaryContent";
    public const string YamlSyntax = "YamlSyntax";
    public const string EmptyDocument = "EmptyDocument";
    public const string MultipleDocuments = "MultipleDocuments";
    public const string AliasNotAllowed = "AliasNotAllowed";
    public const string TooDeep = "TooDeep";
    public const string DuplicateKey = "DuplicateKey";
    public const string UnknownKey = "UnknownKey";
    public const string KeyNotForKind = "KeyNotForKind";
    public const string WrongType = "WrongType";
    public const string MissingKey = "MissingKey";
    public const string OutOfRange = "OutOfRange";
    public const string InvalidValue = "InvalidValue";
    public const string UnsupportedVersion = "UnsupportedVersion";
    public const string UnknownKind = "UnknownKind";
    public const string DuplicateTier = "DuplicateTier";
    public const string UnsafeTierPath = "UnsafeTierPath";
    public const string MissingLocalTier = "MissingLocalTier";
    public const string MissingTier = "MissingTier";
    public const string ThresholdOrder = "ThresholdOrder";
    public const string LifecycleOrder = "LifecycleOrder";
    public const string DuplicateRule = "DuplicateRule";
    public const string InvalidRegex = "InvalidRegex";
    public const string DuplicatePattern = "DuplicatePattern";
    public const string SecretInPolicy = "SecretInPolicy";
    public const string UnsetVariable = "UnsetVariable";
    public const string NoCapacity = "NoCapacity";
    public const string NoPrice = "NoPrice";
}
