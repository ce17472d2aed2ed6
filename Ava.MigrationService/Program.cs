using Ava.MigrationService;

var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
builder.AddAvaDbContext();
builder.Services.AddHostedService<DatabaseMigrator>();

builder.Build().Run();
