using System.Text.Json.Serialization;
using Ava.MessagesApi;
using Ava.MessagesApi.Data;
using Ava.MessagesApi.Identity;
using Ava.MessagesApi.Me;
using Ava.MessagesApi.Media;
using Ava.MessagesApi.Messages;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddUserData();
builder.AddRedisClient("cache");
builder.AddAvaIdentity();
builder.AddBrowserOrigins();

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<DependencyUnavailableHandler>();
builder.Services.AddOpenApi(options => options.AddOperationTransformer(
    new BearerSecurityScheme("A Supabase access token (or one from scripts/token.sh in development).")));
builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();

// Before authentication: a browser's preflight carries no token, and a 401 must still be readable by the page.
app.UseCors();
app.UseAuthentication();
app.UseCurrentUser();
app.UseAuthorization();

if (app.Environment.IsDevelopment())
{
    app.MapOpenApi();
    app.MapScalarApiReference();
}

app.MapMessages();
app.MapMedia();
app.MapWhatsAppLink();
app.MapDefaultEndpoints();

app.Run();
