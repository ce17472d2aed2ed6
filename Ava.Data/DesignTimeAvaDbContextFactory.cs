using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Ava.Data;

/// <summary>
/// Lets <c>dotnet ef migrations add</c> build the model without starting a service or a database.
/// </summary>
internal sealed class DesignTimeAvaDbContextFactory : IDesignTimeDbContextFactory<AvaDbContext>
{
    public AvaDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<AvaDbContext>()
            .UseNpgsql("Host=localhost;Database=ava", AvaDbContext.ConfigureNpgsql)
            .Options;
        return new AvaDbContext(options);
    }
}
