namespace Entourage.Client.Contracts;

/// <summary>
/// Marks a string field that holds one of an enum's snake_case names. It stays a string so the server can answer an
/// unknown name with a 422 listing the allowed ones; the mark lets a wrong JSON type (a number) be answered with
/// the same list instead of "must be a string".
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class StringEnumAttribute(Type enumType) : Attribute
{
    public Type EnumType { get; } = enumType;
}
