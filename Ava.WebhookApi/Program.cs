using Ava.WebhookApi.Admin;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Receiving;
using Ava.WebhookApi.WhatsApp.Storage;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddAvaDataSource(WebhookDataSource.Configure);
builder.AddRedisClient("cache");
builder.AddWhatsApp();
builder.AddWebhookProtection();
builder.AddAdminAccess();
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi(options => options.AddOperationTransformer(
    new BearerSecurityScheme("A service-role token for /admin: Supabase's service_role key (or scripts/token.sh --service-role in development).")));

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseWebhookProtection();
app.UseAdminOffTunnels();

// Only endpoints that ask for it (the admin group) authenticate; after the status-code pages, so that 401 and 403
// are problem documents.
app.UseAuthorization();

if (app.Environment.IsDevelopment())
{
    app.MapOpenApi();
    app.MapScalarApiReference();
}

app.MapWhatsAppWebhook();
app.MapAdmin();
app.MapDefaultEndpoints();

app.Run();
