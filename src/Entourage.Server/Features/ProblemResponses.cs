namespace Entourage.Server.Features;

/// <summary>Documents the RFC 9457 answers every API endpoint can give, so /openapi/v1.json shows them.</summary>
public static class ProblemResponses
{
    public static TBuilder WithProblems<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
}
