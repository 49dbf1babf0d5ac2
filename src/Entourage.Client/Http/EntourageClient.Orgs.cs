using Entourage.Client.Contracts;

namespace Entourage.Client;

public sealed partial class EntourageClient
{
    public Task<List<OrgDto>> ListOrgsAsync(CancellationToken ct = default) => GetAsync<List<OrgDto>>("api/v1/orgs", ct);

    public Task<OrgDto> CreateOrgAsync(CreateOrgRequest request, CancellationToken ct = default) =>
        SendAsync<OrgDto>(HttpMethod.Post, "api/v1/orgs", request, ct);
}
